//! Authentication and authorization: passwords, tokens, principals, roles and guards, the
//! tenant user service and its GraphQL API.

mod access;
mod guard;
mod password;
mod principal;
mod rate_limit;
pub(crate) mod schema;
pub(crate) mod service;
mod tokens;

pub use access::{ACCESS_CHANNEL, AccessChange, AccessControl};
pub use guard::RoleGuard;
pub use password::{hash_password, verify_password};
pub use principal::{AdminPrincipal, Principal, Role};
pub use rate_limit::LoginLimiter;
pub use tokens::{
    AccessToken, JwtKeys, OpaqueToken, TenantToken, hash_token, load_or_create_dev_secret,
};

/// The user API brings the loader of users every vertical's objects point to.
pub fn register(verticals: &mut crate::Verticals) {
    verticals.loaders.push(schema::attach_loaders);
}
