//! Authentication and authorization: passwords, tokens, principals, roles and guards, and
//! the access control that holds every request to the user's and tenant's current state.

mod access;
mod guard;
mod password;
mod principal;
mod rate_limit;
mod tokens;

pub use access::{ACCESS_CHANNEL, AccessChange, AccessControl};
pub use guard::RoleGuard;
pub use password::{hash_password, verify_password};
pub use principal::{AdminPrincipal, Principal, Role, UserStatus, parse_role};
pub use rate_limit::LoginLimiter;
pub use tokens::{
    AccessToken, JwtKeys, OpaqueToken, TenantToken, hash_token, load_or_create_dev_secret,
};
