//! Where an opportunity sits on its board: its stage and its position there.

use chrono::Utc;
use entity::tenant::{opportunity, pipeline_stage, stage_change};
use platform::{
    auth::Principal,
    error::{AppError, AppResult},
};
use sea_orm::{
    ActiveModelTrait, ColumnTrait, ConnectionTrait, EntityTrait, PaginatorTrait, QueryFilter,
    QueryTrait, Set,
    sea_query::{Expr, ExprTrait},
};
use uuid::Uuid;

use super::events::Opportunities;
use crate::{
    pipelines,
    shared::find_opportunity,
    types::{OpportunityStatus, StageKind},
};
use platform::audit::Audited;

/// Resolves where a new opportunity goes: the named stage, else the first open stage of the
/// named (or default) pipeline.
pub(crate) async fn initial_stage<C: ConnectionTrait>(
    conn: &C,
    pipeline_id: Option<Uuid>,
    stage_id: Option<Uuid>,
) -> AppResult<pipeline_stage::Model> {
    if let Some(stage_id) = stage_id {
        let stage = pipelines::find_stage(conn, stage_id).await?;
        if let Some(pipeline_id) = pipeline_id
            && stage.pipeline_id != pipeline_id
        {
            pipelines::find(conn, pipeline_id).await?;
            return Err(AppError::bad_input(
                "stageId",
                "this stage belongs to another pipeline",
            ));
        }
        return Ok(stage);
    }
    let pipeline = match pipeline_id {
        Some(id) => pipelines::find(conn, id).await?,
        None => pipelines::default_pipeline(conn).await?,
    };
    let stages = pipelines::stages_of(conn, pipeline.id).await?;
    stages
        .iter()
        .find(|s| s.kind == StageKind::Open.as_str())
        .or(stages.first())
        .cloned()
        .ok_or(AppError::NotFound("stage"))
}

pub(crate) async fn stage_size<C: ConnectionTrait>(
    conn: &C,
    stage_id: Uuid,
    except: Option<Uuid>,
) -> AppResult<i64> {
    let mut query = opportunity::Entity::find().filter(opportunity::Column::StageId.eq(stage_id));
    if let Some(except) = except {
        query = query.filter(opportunity::Column::Id.ne(except));
    }
    Ok(query.count(conn).await? as i64)
}

pub(crate) async fn record_stage_change<C: ConnectionTrait>(
    conn: &C,
    actor: &Principal,
    opportunity_id: Uuid,
    from: Option<Uuid>,
    to: Uuid,
) -> AppResult<()> {
    stage_change::ActiveModel {
        id: Set(Uuid::now_v7()),
        opportunity_id: Set(opportunity_id),
        from_stage_id: Set(from),
        to_stage_id: Set(to),
        changed_by: Set(actor.user()),
        changed_at: Set(Utc::now()),
    }
    .insert(conn)
    .await?;
    Ok(())
}

/// Moves the deals of `stage_id` from `position` on (but `except`) by `by`: -1 closes the gap
/// a deal leaves, +1 opens the place it takes.
pub(crate) async fn shift<C: ConnectionTrait>(
    conn: &C,
    stage_id: Uuid,
    position: i64,
    by: i64,
    except: Option<Uuid>,
) -> AppResult<()> {
    opportunity::Entity::update_many()
        .col_expr(
            opportunity::Column::Position,
            Expr::col(opportunity::Column::Position).add(by),
        )
        .filter(opportunity::Column::StageId.eq(stage_id))
        .filter(opportunity::Column::Position.gte(position))
        .apply_if(except, |update, id| {
            update.filter(opportunity::Column::Id.ne(id))
        })
        .exec(conn)
        .await?;
    Ok(())
}

/// Moves an opportunity to `stage_id` (of its own pipeline) at `position` (default: the
/// end). Concurrent moves in one pipeline are serialised, so each lands and is recorded.
pub async fn move_to<C: ConnectionTrait>(
    conn: &C,
    actor: &Principal,
    id: Uuid,
    stage_id: Uuid,
    position: Option<i64>,
) -> AppResult<opportunity::Model> {
    let current = find_opportunity(conn, id).await?;
    let stage = pipelines::find_stage(conn, stage_id).await?;
    if stage.pipeline_id != current.pipeline_id {
        return Err(AppError::bad_input(
            "stageId",
            "this stage belongs to another pipeline",
        ));
    }
    if let Some(position) = position
        && position < 0
    {
        return Err(AppError::bad_input("position", "a position is 0 or more"));
    }
    pipelines::lock(conn, current.pipeline_id).await?;
    // Read again under the lock: another move may have changed it meanwhile.
    let current = find_opportunity(conn, id).await?;
    place_in_stage(conn, actor, current, &stage, position).await
}

/// Puts an opportunity in a stage at a position, closing the gap it leaves and opening one
/// where it lands; its status follows the stage's kind. The caller holds the pipeline lock.
pub(crate) async fn place_in_stage<C: ConnectionTrait>(
    conn: &C,
    actor: &Principal,
    current: opportunity::Model,
    stage: &pipeline_stage::Model,
    position: Option<i64>,
) -> AppResult<opportunity::Model> {
    place(conn, actor, current, stage, position, None).await
}

pub(crate) async fn place<C: ConnectionTrait>(
    conn: &C,
    actor: &Principal,
    current: opportunity::Model,
    stage: &pipeline_stage::Model,
    position: Option<i64>,
    lost_reason: Option<String>,
) -> AppResult<opportunity::Model> {
    shift(
        conn,
        current.stage_id,
        current.position + 1,
        -1,
        Some(current.id),
    )
    .await?;
    let size = stage_size(conn, stage.id, Some(current.id)).await?;
    let position = position.unwrap_or(size).clamp(0, size);
    shift(conn, stage.id, position, 1, Some(current.id)).await?;
    let status = OpportunityStatus::from(StageKind::from_stored(&stage.kind)?);
    let stage_changed = stage.id != current.stage_id;
    let now = Utc::now();
    let closed_at = match status {
        OpportunityStatus::Open => None,
        _ if current.status == status.as_str() => current.closed_at.or(Some(now)),
        _ => Some(now),
    };
    let lost_reason = match status {
        OpportunityStatus::Lost => lost_reason.or(current.lost_reason.clone()),
        _ => None,
    };
    let model = opportunity::ActiveModel {
        id: Set(current.id),
        stage_id: Set(stage.id),
        position: Set(position),
        status: Set(status.as_str().into()),
        closed_at: Set(closed_at),
        lost_reason: Set(lost_reason),
        stage_entered_at: Set(if stage_changed {
            now
        } else {
            current.stage_entered_at
        }),
        updated_at: Set(now),
        ..Default::default()
    }
    .update(conn)
    .await?;
    if stage_changed {
        record_stage_change(conn, actor, current.id, Some(current.stage_id), stage.id).await?;
    }
    Opportunities::updated(actor, current.id, &current, &model, None)
        .record(conn)
        .await?;
    Ok(model)
}
