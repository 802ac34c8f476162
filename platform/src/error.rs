//! [`AppError`]: the one error type of Nexo's services, and its mapping to GraphQL errors
//! with a stable `extensions.code`. Internal causes are logged once, here, with an id the
//! client sees; their text never reaches the client.

use async_graphql::ErrorExtensions;
use sea_orm::{DbErr, SqlErr};

pub type AppResult<T> = Result<T, AppError>;
/// What resolvers return; `?` on an [`AppResult`] keeps the error's code.
pub type GqlResult<T> = async_graphql::Result<T>;

/// Deliberately not `Display`/`std::error::Error`: async-graphql converts any `Display`
/// error into a GraphQL error without a code, so without it the compiler makes every
/// conversion go through [`AppError::to_graphql`].
#[derive(Debug)]
pub enum AppError {
    /// No valid credentials: missing, expired, forged or for another tenant or audience.
    Unauthenticated(String),
    /// Authenticated, but the role does not allow this.
    Forbidden(String),
    /// The entity does not exist in this tenant (or belongs to another: never a leak).
    NotFound(&'static str),
    /// An input field is invalid; `field` names it.
    BadUserInput { field: String, message: String },
    /// The change collides with existing data (a taken slug, a duplicate email).
    Conflict(String),
    /// A rule of the entity's state refuses the action, with a code of its own
    /// (`INVALID_TRANSITION`, `EXPIRED`, `SERIES_EXHAUSTED`, ...).
    Refused { code: &'static str, message: String },
    /// Too many attempts; try again after `retry_after_secs`.
    RateLimited { retry_after_secs: u64 },
    /// The Host header names no tenant.
    TenantNotFound,
    /// The tenant exists but is suspended.
    TenantSuspended,
    /// The request exceeds a depth, complexity, alias or batch limit.
    QueryTooComplex(String),
    /// The request body exceeds the size limit.
    PayloadTooLarge(usize),
    /// The request ran longer than the request timeout; nothing it did was kept.
    Timeout(u128),
    /// A configured limit on open subscriptions was reached.
    LimitExceeded(String),
    /// A subscriber read too slowly and was ended; it subscribes again with its cursor.
    SlowConsumer(String),
    /// The HTTP method does not allow this operation (a mutation over GET).
    MethodNotAllowed(String),
    /// Anything else: a bug or an unavailable dependency. Logged, masked to the client.
    Internal(anyhow::Error),
}

impl AppError {
    pub fn bad_input(field: impl Into<String>, message: impl Into<String>) -> Self {
        Self::BadUserInput {
            field: field.into(),
            message: message.into(),
        }
    }

    /// A rule refuses the action: `code` is what clients branch on.
    pub fn refused(code: &'static str, message: impl Into<String>) -> Self {
        Self::Refused {
            code,
            message: message.into(),
        }
    }

    pub fn internal(message: impl std::fmt::Display) -> Self {
        Self::Internal(anyhow::anyhow!("{message}"))
    }

    /// What the client is told (internal causes excepted: see [`Self::to_graphql`]).
    pub fn message(&self) -> String {
        match self {
            Self::Unauthenticated(m)
            | Self::Forbidden(m)
            | Self::Conflict(m)
            | Self::QueryTooComplex(m)
            | Self::MethodNotAllowed(m)
            | Self::LimitExceeded(m)
            | Self::SlowConsumer(m) => m.clone(),
            Self::NotFound(what) => format!("{what} not found"),
            Self::BadUserInput { message, .. } | Self::Refused { message, .. } => message.clone(),
            Self::RateLimited { retry_after_secs } => {
                format!("too many attempts; try again in {retry_after_secs} s")
            }
            Self::TenantNotFound => "no tenant is served at this host".into(),
            Self::TenantSuspended => "this tenant is suspended".into(),
            Self::PayloadTooLarge(limit) => format!("request body larger than {limit} bytes"),
            Self::Timeout(ms) => format!("request took longer than {ms} ms; nothing was changed"),
            Self::Internal(cause) => format!("internal error: {cause:#}"),
        }
    }

    pub fn code(&self) -> &'static str {
        match self {
            Self::Unauthenticated(_) => "UNAUTHENTICATED",
            Self::Forbidden(_) => "FORBIDDEN",
            Self::NotFound(_) => "NOT_FOUND",
            Self::BadUserInput { .. } => "BAD_USER_INPUT",
            Self::Conflict(_) => "CONFLICT",
            Self::Refused { code, .. } => code,
            Self::RateLimited { .. } => "RATE_LIMITED",
            Self::TenantNotFound => "TENANT_NOT_FOUND",
            Self::TenantSuspended => "TENANT_SUSPENDED",
            Self::QueryTooComplex(_) => "QUERY_TOO_COMPLEX",
            Self::PayloadTooLarge(_) => "PAYLOAD_TOO_LARGE",
            Self::Timeout(_) => "TIMEOUT",
            Self::MethodNotAllowed(_) => "METHOD_NOT_ALLOWED",
            Self::LimitExceeded(_) => "LIMIT_EXCEEDED",
            Self::SlowConsumer(_) => "SLOW_CONSUMER",
            Self::Internal(_) => "INTERNAL",
        }
    }

    /// The HTTP status for errors that refuse a whole request before GraphQL runs.
    pub fn http_status(&self) -> axum::http::StatusCode {
        use axum::http::StatusCode;
        match self {
            Self::Unauthenticated(_) => StatusCode::UNAUTHORIZED,
            Self::Forbidden(_) | Self::TenantSuspended => StatusCode::FORBIDDEN,
            Self::NotFound(_) | Self::TenantNotFound => StatusCode::NOT_FOUND,
            Self::Refused { .. } => StatusCode::CONFLICT,
            Self::RateLimited { .. } => StatusCode::TOO_MANY_REQUESTS,
            Self::PayloadTooLarge(_) => StatusCode::PAYLOAD_TOO_LARGE,
            Self::MethodNotAllowed(_) => StatusCode::METHOD_NOT_ALLOWED,
            Self::Timeout(_) => StatusCode::SERVICE_UNAVAILABLE,
            Self::Internal(_) => StatusCode::INTERNAL_SERVER_ERROR,
            _ => StatusCode::BAD_REQUEST,
        }
    }

    /// This error as a GraphQL error; internal causes are logged and replaced by an id.
    pub fn to_graphql(&self) -> async_graphql::Error {
        let message = match self {
            Self::Internal(cause) => {
                let error_id = uuid::Uuid::now_v7();
                tracing::error!(%error_id, error = ?cause, "internal error");
                return async_graphql::Error::new(format!(
                    "internal error (id {error_id}); the request was not completed"
                ))
                .extend_with(|_, ext| {
                    ext.set("code", "INTERNAL");
                    ext.set("errorId", error_id.to_string());
                });
            }
            other => other.message(),
        };
        async_graphql::Error::new(message).extend_with(|_, ext| {
            ext.set("code", self.code());
            match self {
                Self::BadUserInput { field, .. } => ext.set("field", field.as_str()),
                Self::RateLimited { retry_after_secs } => {
                    ext.set("retryAfterSeconds", *retry_after_secs)
                }
                _ => {}
            }
        })
    }

    /// This error as an execution error without a position (a refusal before execution,
    /// or an end of a stream).
    pub fn to_server_error(&self) -> async_graphql::ServerError {
        let error = self.to_graphql();
        async_graphql::ServerError {
            message: error.message,
            source: None,
            locations: Vec::new(),
            path: Vec::new(),
            extensions: error.extensions,
        }
    }

    /// A GraphQL response body holding only this error, for requests refused before
    /// execution.
    pub fn to_response_body(&self) -> serde_json::Value {
        let error = self.to_graphql();
        serde_json::json!({
            "data": null,
            "errors": [{
                "message": error.message,
                "extensions": error.extensions,
            }]
        })
    }
}

impl From<AppError> for async_graphql::Error {
    fn from(error: AppError) -> Self {
        error.to_graphql()
    }
}

impl From<AppError> for anyhow::Error {
    fn from(error: AppError) -> Self {
        match error {
            AppError::Internal(cause) => cause,
            other => anyhow::anyhow!("{} ({})", other.message(), other.code()),
        }
    }
}

impl From<anyhow::Error> for AppError {
    fn from(error: anyhow::Error) -> Self {
        Self::Internal(error)
    }
}

impl From<DbErr> for AppError {
    fn from(error: DbErr) -> Self {
        Self::Internal(error.into())
    }
}

/// Maps a unique-constraint violation to a user error; anything else stays internal.
pub fn on_unique_violation(error: DbErr, conflict: impl FnOnce() -> AppError) -> AppError {
    match error.sql_err() {
        Some(SqlErr::UniqueConstraintViolation(_)) => conflict(),
        _ => AppError::from(error),
    }
}
