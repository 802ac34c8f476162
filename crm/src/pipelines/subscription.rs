//! Live boards: each change to a pipeline's opportunities, with the opportunity as it now is.

use std::sync::Arc;

use async_graphql::{Context, ID, Object, Subscription};
use futures::{Stream, StreamExt};
use platform::{
    AppContext,
    audit::Audited,
    auth::{Role, RoleGuard},
    error::{AppError, AppResult},
    events::{
        catalog::{EntityOf, payload_of},
        follow::follow,
    },
    graphql::ContextExt,
    parse_id,
    tenancy::Tenant,
};
use uuid::Uuid;

use crate::{
    opportunities::{
        events::{OnPipeline, Opportunities},
        schema::OpportunityNode,
    },
    pipelines::{
        self,
        board::{Edges, with_edges},
    },
};

/// An opportunity as one change left it, shared by every subscriber of this instance.
pub type BoardSnapshot = Arc<Option<(entity::tenant::opportunity::Model, Arc<Edges>)>>;

/// Opportunities as board changes left them, by (tenant, opportunity, event), shared by
/// every board subscriber on this instance.
pub struct BoardSnapshots(moka::future::Cache<(Uuid, Uuid, i64), BoardSnapshot>);

impl Default for BoardSnapshots {
    fn default() -> Self {
        Self(
            moka::future::Cache::builder()
                .max_capacity(10_000)
                .time_to_live(std::time::Duration::from_secs(30))
                .build(),
        )
    }
}

/// One change on a board.
pub struct BoardChange {
    sequence: i64,
    event_type: String,
    opportunity_id: Uuid,
    snapshot: BoardSnapshot,
}

#[Object]
impl BoardChange {
    /// The event's sequence: resume the `events` subscription after it if needed.
    async fn sequence(&self) -> i64 {
        self.sequence
    }
    /// `opportunity.created`, `.updated`, `.stage_changed`, `.moved`, `.won`, `.lost`,
    /// `.reopened` or `.deleted`.
    async fn r#type(&self) -> &str {
        &self.event_type
    }
    async fn opportunity_id(&self) -> ID {
        platform::id(self.opportunity_id)
    }
    /// The opportunity as it now is (its contact, company, owner and stage included);
    /// null once deleted.
    async fn opportunity(&self) -> Option<OpportunityNode> {
        self.snapshot
            .as_ref()
            .as_ref()
            .map(|(model, edges)| OpportunityNode(model.clone(), None, Some(edges.clone())))
    }
}

#[derive(Default)]
pub struct CrmSubscription;

#[Subscription]
impl CrmSubscription {
    /// Every change to the opportunities of a pipeline, as it commits. With `after` (an
    /// event sequence), the changes since then come first: a client that reconnects
    /// resumes without missing one.
    #[graphql(guard = "RoleGuard::at_least(Role::Viewer)")]
    async fn pipeline_board(
        &self,
        ctx: &Context<'_>,
        pipeline_id: ID,
        after: Option<i64>,
    ) -> async_graphql::Result<impl Stream<Item = async_graphql::Result<BoardChange>> + use<>> {
        // Boxed: the macro keeps this future's space in every subscription's stream for
        // as long as it lives; boxed, the space is freed once subscribing is done.
        Box::pin(async move {
            let pipeline_id = parse_id(&pipeline_id, "pipelineId")?;
            if after.is_some_and(|a| a < 0) {
                return Err(AppError::bad_input("after", "after is 0 or more").into());
            }
            let app = ctx.app()?.clone();
            let tenant = platform::graphql::subscriber_tenant(ctx)?;
            check_pipeline(&app, &tenant, pipeline_id).await?;
            let events = follow(app.clone(), tenant.clone(), Vec::new(), after).await?;
            let stream = events
                .filter(move |item| {
                    let relevant = match item {
                        Ok(event) => {
                            payload_of::<EntityOf<OnPipeline>>(event, Opportunities::EVENTS)
                                .is_some_and(|change| change.entity.pipeline_id == pipeline_id)
                        }
                        Err(_) => true,
                    };
                    futures::future::ready(relevant)
                })
                .then(move |item| {
                    let app = app.clone();
                    let tenant = tenant.clone();
                    // Boxed: a subscriber holds only a pointer while it waits, not the
                    // loading future's whole state (about 20 KiB), idle or not.
                    Box::pin(async move {
                        let event = item?;
                        let snapshot = snapshot(
                            &app,
                            &tenant,
                            event.entity_id,
                            event.seq.unwrap_or_default(),
                        )
                        .await?;
                        Ok(BoardChange {
                            sequence: event.seq.unwrap_or_default(),
                            event_type: event.event_type.clone(),
                            opportunity_id: event.entity_id,
                            snapshot,
                        })
                    })
                });
            Ok(stream)
        })
        .await
    }
}

/// The opportunity after event `seq`, loaded once on this instance however many subscribers
/// ask at once (the cache joins concurrent loads of the same key).
pub(crate) async fn snapshot(
    app: &AppContext,
    tenant: &Tenant,
    opportunity: Uuid,
    seq: i64,
) -> AppResult<BoardSnapshot> {
    app.state::<BoardSnapshots>()?
        .0
        .try_get_with((tenant.id, opportunity, seq), async {
            let loaded = app
                .store
                .read(tenant, |conn| Box::pin(with_edges(conn, opportunity)))
                .await?;
            Ok::<_, AppError>(Arc::new(
                loaded.map(|(model, edges)| (model, Arc::new(edges))),
            ))
        })
        .await
        .map_err(|e| AppError::internal(e.message()))
}

/// `NOT_FOUND` unless the tenant has this pipeline (subscriptions check before streaming).
pub async fn check_pipeline(app: &AppContext, tenant: &Tenant, pipeline: Uuid) -> AppResult<()> {
    app.store
        .read(tenant, |conn| {
            Box::pin(async move { pipelines::find(conn, pipeline).await.map(|_| ()) })
        })
        .await
}
