//! Reading the event log over GraphQL: partners and dashboards follow it by number.
use async_graphql::{
    Context, ID, Json, Object, SimpleObject, Subscription, dataloader::DataLoader,
};
use chrono::{DateTime, Utc};
use entity::tenant::event;
use futures::{Stream, StreamExt};

use platform::{
    auth::{Role, RoleGuard},
    error::{AppError, AppResult, GqlResult},
    events::log,
    graphql::{ContextExt, load_one, subscriber_tenant},
};

use crate::schema::{UserById, UserNode};

const MAX_EVENTS: i32 = 1000;
/// Event types a reader may filter on at once (each event is compared with each).
const MAX_TYPES: usize = 50;

fn parse_types(types: Option<Vec<String>>) -> AppResult<Vec<String>> {
    let types = types.unwrap_or_default();
    if types.len() > MAX_TYPES {
        return Err(AppError::bad_input(
            "types",
            format!("at most {MAX_TYPES} event types"),
        ));
    }
    Ok(types)
}

pub struct EventNode(event::Model);

/// Something that happened in the tenant, numbered in commit order.
#[Object(name = "Event")]
impl EventNode {
    /// Gapless and increasing in commit order: pass the last one seen as `after`.
    async fn sequence(&self) -> i64 {
        self.0.seq.unwrap_or_default()
    }
    /// `contact.created`, `opportunity.stage_changed`, `opportunity.won`, `activity.logged`, ...
    async fn r#type(&self) -> &str {
        &self.0.event_type
    }
    async fn entity_type(&self) -> &str {
        &self.0.entity_type
    }
    async fn entity_id(&self) -> ID {
        platform::id(self.0.entity_id)
    }
    async fn actor_id(&self) -> Option<ID> {
        self.0.actor_id.map(platform::id)
    }
    /// Who caused it. Resolved in queries; subscriptions carry `actorId` only (null here).
    async fn actor(&self, ctx: &Context<'_>) -> GqlResult<Option<UserNode>> {
        let Some(actor) = self.0.actor_id else {
            return Ok(None);
        };
        if ctx.data_opt::<DataLoader<UserById>>().is_none() {
            return Ok(None);
        }
        Ok(load_one::<UserById, _>(ctx, actor)
            .await?
            .map(UserNode::try_from)
            .transpose()?)
    }
    async fn occurred_at(&self) -> DateTime<Utc> {
        self.0.occurred_at
    }
    /// `{"entity": {...}, "changes": {"field": {"before": .., "after": ..}}}`.
    async fn payload(&self) -> Json<serde_json::Value> {
        Json(self.0.payload.clone())
    }
}

#[derive(SimpleObject)]
pub struct EventPage {
    pub nodes: Vec<EventNode>,
    /// Pass as `after` to continue: the last event's sequence, or `after` when none came.
    pub last_sequence: i64,
    /// Whether more events follow now.
    pub has_more: bool,
}

#[derive(Default)]
pub struct EventsQuery;

#[Object]
impl EventsQuery {
    /// The tenant's events after `after` (0: from the start), oldest first, optionally only
    /// those of the given types.
    #[graphql(
        guard = "RoleGuard::at_least(Role::Viewer)",
        complexity = "platform::graphql::complexity::up_to(first, MAX_EVENTS as usize, child_complexity)"
    )]
    async fn events(
        &self,
        ctx: &Context<'_>,
        #[graphql(default = 0)] after: i64,
        #[graphql(default = 100)] first: i32,
        types: Option<Vec<String>>,
    ) -> GqlResult<EventPage> {
        if !(1..=MAX_EVENTS).contains(&first) {
            return Err(AppError::bad_input(
                "first",
                format!("first is between 1 and {MAX_EVENTS}"),
            )
            .into());
        }
        if after < 0 {
            return Err(AppError::bad_input("after", "after is 0 or more").into());
        }
        let types = parse_types(types)?;
        let mut rows = log::read_after(ctx.conn().await?, after, &types, first as u64 + 1).await?;
        let has_more = rows.len() > first as usize;
        rows.truncate(first as usize);
        let last_sequence = rows.last().and_then(|e| e.seq).unwrap_or(after);
        Ok(EventPage {
            nodes: rows.into_iter().map(EventNode).collect(),
            last_sequence,
            has_more,
        })
    }
}

#[derive(Default)]
pub struct EventsSubscription;

#[Subscription]
impl EventsSubscription {
    /// The tenant's events as they commit. With `after`, first every event since that
    /// sequence, then live, with no gap and no duplicate; resume after a disconnect by
    /// passing the last sequence received.
    #[graphql(guard = "RoleGuard::at_least(Role::Viewer)")]
    async fn events(
        &self,
        ctx: &Context<'_>,
        types: Option<Vec<String>>,
        after: Option<i64>,
    ) -> async_graphql::Result<impl Stream<Item = async_graphql::Result<EventNode>> + use<>> {
        // Boxed: the macro keeps this future's space in every subscription's stream for
        // as long as it lives; boxed, the space is freed once subscribing is done.
        Box::pin(async move {
            if after.is_some_and(|a| a < 0) {
                return Err(AppError::bad_input("after", "after is 0 or more").into());
            }
            let types = parse_types(types)?;
            let app = ctx.app()?.clone();
            let tenant = subscriber_tenant(ctx)?;
            let stream = platform::events::follow::follow(app, tenant, types, after).await?;
            Ok(stream.map(|item| item.map(|e| EventNode((*e).clone())).map_err(Into::into)))
        })
        .await
    }
}
