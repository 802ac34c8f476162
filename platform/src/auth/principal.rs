use uuid::Uuid;

use crate::error::{AppError, AppResult};

/// A tenant user's role. Ranks order what each may do: owner > admin > manager >
/// sales = support > viewer.
#[derive(
    Clone,
    Copy,
    Debug,
    PartialEq,
    Eq,
    Hash,
    async_graphql::Enum,
    serde::Serialize,
    serde::Deserialize,
)]
#[serde(rename_all = "lowercase")]
pub enum Role {
    Owner,
    Admin,
    Manager,
    Sales,
    Support,
    /// Issues invoices, records payments and credit notes (as admins and owners may).
    Finance,
    Viewer,
}

impl Role {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Owner => "owner",
            Self::Admin => "admin",
            Self::Manager => "manager",
            Self::Sales => "sales",
            Self::Support => "support",
            Self::Finance => "finance",
            Self::Viewer => "viewer",
        }
    }

    pub fn parse(raw: &str) -> Option<Self> {
        Some(match raw {
            "owner" => Self::Owner,
            "admin" => Self::Admin,
            "manager" => Self::Manager,
            "sales" => Self::Sales,
            "support" => Self::Support,
            "finance" => Self::Finance,
            "viewer" => Self::Viewer,
            _ => return None,
        })
    }

    fn rank(self) -> u8 {
        match self {
            Self::Owner => 5,
            Self::Admin => 4,
            Self::Manager => 3,
            Self::Sales | Self::Support | Self::Finance => 2,
            Self::Viewer => 1,
        }
    }

    /// Whether this role may do what `required` may.
    pub fn at_least(self, required: Role) -> bool {
        self.rank() >= required.rank()
    }

    /// Whether this role may do finance's work: issue invoices, record payments, credit.
    pub fn is_finance(self) -> bool {
        self == Self::Finance || self.at_least(Self::Admin)
    }
}

/// A tenant user proven by an access token bound to the request's tenant.
#[derive(Clone, Debug)]
pub struct Principal {
    pub user_id: Uuid,
    pub tenant_id: Uuid,
    pub role: Role,
}

impl Principal {
    /// A change no user made: a tenant's client on a public link (accepting a quote), or
    /// a scheduled job (a quote expiring). The lowest role; its changes are recorded
    /// without an actor.
    pub fn no_user(tenant_id: Uuid) -> Self {
        Self {
            user_id: Uuid::nil(),
            tenant_id,
            role: Role::Viewer,
        }
    }

    /// The user acting; none for [`Self::no_user`].
    pub fn user(&self) -> Option<Uuid> {
        (!self.user_id.is_nil()).then_some(self.user_id)
    }
}

/// A platform admin proven by an admin-audience token.
#[derive(Clone, Debug)]
pub struct AdminPrincipal {
    pub admin_id: Uuid,
}

/// A user's stored status.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum UserStatus {
    Invited,
    Active,
    Deactivated,
}

impl UserStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Invited => "invited",
            Self::Active => "active",
            Self::Deactivated => "deactivated",
        }
    }
}

/// A role as stored; one Nexo does not know is an internal error.
pub fn parse_role(raw: &str) -> AppResult<Role> {
    Role::parse(raw).ok_or_else(|| AppError::internal(format!("unknown role {raw:?} stored")))
}
