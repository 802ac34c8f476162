use async_graphql::{Context, Guard};

use super::{Principal, Role};
use crate::error::AppError;

/// Lets a field run only for a signed-in user of at least `required` role.
pub struct RoleGuard {
    required: Role,
}

impl RoleGuard {
    pub fn at_least(required: Role) -> Self {
        Self { required }
    }
}

impl Guard for RoleGuard {
    async fn check(&self, ctx: &Context<'_>) -> async_graphql::Result<()> {
        let principal = ctx
            .data_opt::<Principal>()
            .ok_or_else(|| AppError::Unauthenticated("sign in first".into()))?;
        if principal.role.at_least(self.required) {
            Ok(())
        } else {
            Err(AppError::Forbidden(format!(
                "this needs the {} role or higher",
                self.required.as_str()
            ))
            .into())
        }
    }
}
