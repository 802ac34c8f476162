//! A sent quote expires when its valid-until day ends where the tenant is: a job scheduled
//! when it is sent records it (`quote.expired`). Until the job has run, the quote already
//! reads as expired and refuses a decision (`quotes::status_at`).

use chrono::Utc;
use platform::{
    auth::Principal,
    error::AppResult,
    jobs::{JobHandler, JobKind, JobRun},
};
use serde_json::{Value, json};
use uuid::Uuid;

pub struct ExpireQuote;

impl JobKind for ExpireQuote {
    const KIND: &'static str = "sales.quote_expiry";
    /// The quote's id.
    type Payload = Uuid;
}

impl JobHandler for ExpireQuote {
    async fn run(run: &JobRun, quote_id: Uuid) -> AppResult<Value> {
        let actor = Principal::no_user(run.tenant().id);
        let expired = super::expire(run.conn().await?, &actor, quote_id, Utc::now()).await?;
        Ok(json!({ "expired": expired }))
    }
}
