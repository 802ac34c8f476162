//! Tax rates over GraphQL.

use async_graphql::{Context, ID, InputObject, Object};
use chrono::{DateTime, Utc};
use entity::tenant::tax_rate;
use platform::{
    auth::{Role, RoleGuard},
    error::GqlResult,
    graphql::ContextExt,
    parse_id,
};
use rust_decimal::Decimal;

use crate::{
    shared::{id, percent_input, required_text, stored_decimal},
    tax_rates::{self, NewTaxRate, TaxRateChanges},
    types::TaxKind,
};

#[derive(InputObject)]
pub struct CreateTaxRateInput {
    pub name: String,
    #[graphql(default_with = "TaxKind::Standard")]
    pub kind: TaxKind,
    /// Percent: `21` is 21%; up to four decimal places.
    pub percentage: Decimal,
}

/// Fields left out stay as they are.
#[derive(InputObject, Default)]
pub struct UpdateTaxRateInput {
    pub name: Option<String>,
    pub kind: Option<TaxKind>,
    pub percentage: Option<Decimal>,
    /// `false` archives the rate: documents keep it, new lines cannot choose it.
    pub active: Option<bool>,
}

pub struct TaxRateNode(pub tax_rate::Model);

/// A tax rate the tenant charges.
#[Object(name = "TaxRate")]
impl TaxRateNode {
    async fn id(&self) -> ID {
        id(self.0.id)
    }
    async fn name(&self) -> &str {
        &self.0.name
    }
    async fn kind(&self) -> GqlResult<TaxKind> {
        Ok(TaxKind::from_stored(&self.0.kind)?)
    }
    /// Percent: `21` is 21%.
    async fn percentage(&self) -> GqlResult<Decimal> {
        Ok(stored_decimal(&self.0.percentage)?)
    }
    async fn active(&self) -> bool {
        self.0.active
    }
    async fn created_at(&self) -> DateTime<Utc> {
        self.0.created_at
    }
    async fn updated_at(&self) -> DateTime<Utc> {
        self.0.updated_at
    }
}

#[derive(Default)]
pub struct TaxRatesQuery;

#[Object]
impl TaxRatesQuery {
    /// The tenant's tax rates by name; archived ones only when asked.
    #[graphql(guard = "RoleGuard::at_least(Role::Viewer)")]
    async fn tax_rates(
        &self,
        ctx: &Context<'_>,
        #[graphql(default)] include_archived: bool,
    ) -> GqlResult<Vec<TaxRateNode>> {
        let rows = tax_rates::list(ctx.conn().await?, include_archived).await?;
        Ok(rows.into_iter().map(TaxRateNode).collect())
    }
}

#[derive(Default)]
pub struct TaxRatesMutation;

#[Object]
impl TaxRatesMutation {
    #[graphql(guard = "RoleGuard::at_least(Role::Admin)")]
    async fn create_tax_rate(
        &self,
        ctx: &Context<'_>,
        input: CreateTaxRateInput,
    ) -> GqlResult<TaxRateNode> {
        let new = NewTaxRate {
            name: required_text(&input.name, "name", 100)?,
            kind: input.kind,
            percentage: percent_input(input.percentage, "percentage")?,
        };
        Ok(TaxRateNode(
            tax_rates::create(ctx.conn().await?, ctx.principal()?, new).await?,
        ))
    }

    #[graphql(guard = "RoleGuard::at_least(Role::Admin)")]
    async fn update_tax_rate(
        &self,
        ctx: &Context<'_>,
        id: ID,
        input: UpdateTaxRateInput,
    ) -> GqlResult<TaxRateNode> {
        let id = parse_id(&id, "id")?;
        let changes = TaxRateChanges {
            name: input
                .name
                .as_deref()
                .map(|n| required_text(n, "name", 100))
                .transpose()?,
            kind: input.kind,
            percentage: input
                .percentage
                .map(|p| percent_input(p, "percentage"))
                .transpose()?,
            active: input.active,
        };
        Ok(TaxRateNode(
            tax_rates::update(ctx.conn().await?, ctx.principal()?, id, changes, None).await?,
        ))
    }
}
