//! `nexo serve --demo`: a tenant to try Nexo with, provisioned once, with a fresh owner
//! password printed at every start.

use std::sync::Arc;

use rand::{Rng, distr::Alphanumeric};

use crate::{
    AppContext,
    admin::service::{self as admin, Plan, ProvisionRequest},
    domain::{Email, NewPassword},
    error::AppResult,
    identity::service as users,
    tenancy::TenantTx,
};

pub const DEMO_SLUG: &str = "demo";
pub const DEMO_OWNER: &str = "owner@demo.example";

pub struct DemoLogin {
    pub email: String,
    pub password: String,
}

/// Makes sure the demo tenant exists and gives its owner a newly generated password.
pub async fn prepare(app: &AppContext) -> AppResult<DemoLogin> {
    let tenant = match app.registry.by_slug(DEMO_SLUG).await? {
        Some(tenant) => tenant,
        None => {
            admin::provision_tenant(
                app,
                ProvisionRequest {
                    slug: DEMO_SLUG.into(),
                    name: "Demo Company".into(),
                    owner_email: DEMO_OWNER.into(),
                    plan: Plan::Professional,
                },
            )
            .await?;
            // Something to look at: the same realistic data `nexo seed` writes.
            crate::seed::seed_tenant(app, DEMO_SLUG, &crate::seed::SeedPlan::default()).await?;
            app.registry
                .by_slug(DEMO_SLUG)
                .await?
                .ok_or(crate::error::AppError::NotFound("tenant"))?
        }
    };
    let password: String = rand::rng()
        .sample_iter(&Alphanumeric)
        .take(20)
        .map(char::from)
        .collect();
    let email = Email::parse(DEMO_OWNER, "email")?;
    let new_password = NewPassword::parse(&password, "password")?;
    TenantTx::run(&app.store, Arc::new(tenant), |tx| {
        Box::pin(async move {
            users::set_password(tx, &email, &new_password).await?;
            Ok(())
        })
    })
    .await?;
    Ok(DemoLogin {
        email: DEMO_OWNER.into(),
        password,
    })
}
