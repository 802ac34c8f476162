use async_graphql::{Context, Guard};

use super::{Principal, Role};
use crate::error::AppError;

/// Lets a field run only for a signed-in user of at least `required` role, or with finance's
/// rights.
pub struct RoleGuard {
    required: Required,
}

enum Required {
    AtLeast(Role),
    Finance,
}

impl RoleGuard {
    pub fn at_least(required: Role) -> Self {
        Self {
            required: Required::AtLeast(required),
        }
    }

    /// The finance role, an admin or the owner ([`Role::is_finance`]).
    pub fn finance() -> Self {
        Self {
            required: Required::Finance,
        }
    }
}

impl Guard for RoleGuard {
    async fn check(&self, ctx: &Context<'_>) -> async_graphql::Result<()> {
        let principal = ctx
            .data_opt::<Principal>()
            .ok_or_else(|| AppError::Unauthenticated("sign in first".into()))?;
        let (allowed, needs) = match self.required {
            Required::AtLeast(role) => (
                principal.role.at_least(role),
                format!("the {} role or higher", role.as_str()),
            ),
            Required::Finance => (
                principal.role.is_finance(),
                "the finance or admin role".to_owned(),
            ),
        };
        if allowed {
            Ok(())
        } else {
            Err(AppError::Forbidden(format!("this needs {needs}")).into())
        }
    }
}
