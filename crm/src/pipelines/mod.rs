//! Pipelines and their stages.

pub mod board;
pub mod events;
pub mod loader;
pub mod schema;
pub mod subscription;

use chrono::Utc;
use entity::tenant::{opportunity, pipeline, pipeline_stage};
use platform::{
    auth::Principal,
    db::{find_by_id, sql::lock_row},
    error::{AppError, AppResult},
};
use sea_orm::{
    ActiveModelTrait, ColumnTrait, ConnectionTrait, EntityTrait, PaginatorTrait, QueryFilter,
    QueryOrder, Set,
};
use uuid::Uuid;

use self::events::{Pipelines, Stages};
use crate::{opportunities::placement::place_in_stage, shared::required_text, types::StageKind};
use platform::audit::Audited;
use serde::Deserialize;

/// The stages of the pipeline a new tenant gets: name, win probability, kind.
pub(crate) const DEFAULT_STAGES: &[(&str, i16, StageKind)] = &[
    ("Lead", 10, StageKind::Open),
    ("Qualified", 25, StageKind::Open),
    ("Proposal", 50, StageKind::Open),
    ("Negotiation", 75, StageKind::Open),
    ("Won", 100, StageKind::Won),
    ("Lost", 0, StageKind::Lost),
];

#[derive(Clone, Debug)]
pub struct NewStage {
    pub name: String,
    pub probability: i16,
    pub kind: StageKind,
}

/// Read from a stored snapshot by stored field names when an update is reverted.
#[derive(Clone, Debug, Default, Deserialize)]
#[serde(default)]
pub struct StageChanges {
    pub name: Option<String>,
    pub probability: Option<i16>,
    pub kind: Option<StageKind>,
}

pub fn parse_probability(raw: i32, field: &str) -> AppResult<i16> {
    if (0..=100).contains(&raw) {
        Ok(raw as i16)
    } else {
        Err(AppError::bad_input(
            field,
            "a win probability is between 0 and 100",
        ))
    }
}

pub fn parse_name(raw: &str, field: &str) -> AppResult<String> {
    required_text(raw, field, 100)
}

/// Serialises changes to one pipeline's board between concurrent transactions (PostgreSQL;
/// SQLite writers are serialised by the database lock already).
pub async fn lock<C: ConnectionTrait>(conn: &C, pipeline_id: Uuid) -> AppResult<()> {
    lock_row(conn, "pipelines", pipeline_id).await
}

pub async fn find<C: ConnectionTrait>(conn: &C, id: Uuid) -> AppResult<pipeline::Model> {
    find_by_id::<pipeline::Entity, _>(conn, id, "pipeline").await
}

pub async fn find_stage<C: ConnectionTrait>(
    conn: &C,
    id: Uuid,
) -> AppResult<pipeline_stage::Model> {
    find_by_id::<pipeline_stage::Entity, _>(conn, id, "stage").await
}

pub async fn stages_of<C: ConnectionTrait>(
    conn: &C,
    pipeline_id: Uuid,
) -> AppResult<Vec<pipeline_stage::Model>> {
    Ok(pipeline_stage::Entity::find()
        .filter(pipeline_stage::Column::PipelineId.eq(pipeline_id))
        .order_by_asc(pipeline_stage::Column::Position)
        .all(conn)
        .await?)
}

/// The pipeline opportunities go to when none is named.
pub async fn default_pipeline<C: ConnectionTrait>(conn: &C) -> AppResult<pipeline::Model> {
    pipeline::Entity::find()
        .order_by_desc(pipeline::Column::IsDefault)
        .order_by_asc(pipeline::Column::Position)
        .order_by_asc(pipeline::Column::Id)
        .one(conn)
        .await?
        .ok_or(AppError::NotFound("pipeline"))
}

/// Creates the default "Sales" pipeline with its stages (at provisioning).
pub async fn seed_default_pipeline<C: ConnectionTrait>(conn: &C) -> AppResult<pipeline::Model> {
    let stages = DEFAULT_STAGES
        .iter()
        .map(|(name, probability, kind)| NewStage {
            name: (*name).into(),
            probability: *probability,
            kind: *kind,
        })
        .collect();
    insert_pipeline(conn, "Sales".into(), true, stages).await
}

pub(crate) async fn insert_pipeline<C: ConnectionTrait>(
    conn: &C,
    name: String,
    is_default: bool,
    stages: Vec<NewStage>,
) -> AppResult<pipeline::Model> {
    let now = Utc::now();
    let position = pipeline::Entity::find().count(conn).await? as i32;
    let pipeline = pipeline::ActiveModel {
        id: Set(Uuid::now_v7()),
        name: Set(name),
        is_default: Set(is_default),
        position: Set(position),
        created_at: Set(now),
        updated_at: Set(now),
    }
    .insert(conn)
    .await?;
    let rows =
        stages
            .into_iter()
            .enumerate()
            .map(|(position, stage)| pipeline_stage::ActiveModel {
                id: Set(Uuid::now_v7()),
                pipeline_id: Set(pipeline.id),
                name: Set(stage.name),
                position: Set(position as i32),
                probability: Set(stage.probability),
                kind: Set(stage.kind.as_str().into()),
                created_at: Set(now),
                updated_at: Set(now),
            });
    pipeline_stage::Entity::insert_many(rows).exec(conn).await?;
    Ok(pipeline)
}

pub async fn list<C: ConnectionTrait>(conn: &C) -> AppResult<Vec<pipeline::Model>> {
    Ok(pipeline::Entity::find()
        .order_by_asc(pipeline::Column::Position)
        .order_by_asc(pipeline::Column::Id)
        .all(conn)
        .await?)
}

/// The most stages a pipeline has: a board is read whole.
pub const MAX_STAGES: usize = 50;

/// Refuses a list of more stages than a pipeline may have, before any work on it.
pub fn check_stage_count(count: usize, field: &str) -> AppResult<()> {
    if count > MAX_STAGES {
        return Err(AppError::bad_input(
            field,
            format!("a pipeline has at most {MAX_STAGES} stages"),
        ));
    }
    Ok(())
}

pub async fn create<C: ConnectionTrait>(
    conn: &C,
    actor: &Principal,
    name: String,
    stages: Vec<NewStage>,
) -> AppResult<pipeline::Model> {
    if stages.is_empty() {
        return Err(AppError::bad_input(
            "stages",
            "a pipeline needs at least one stage",
        ));
    }
    let is_first = pipeline::Entity::find().count(conn).await? == 0;
    let pipeline = insert_pipeline(conn, name, is_first, stages).await?;
    Pipelines::created(actor, pipeline.id, &pipeline)
        .record(conn)
        .await?;
    Ok(pipeline)
}

pub async fn rename<C: ConnectionTrait>(
    conn: &C,
    actor: &Principal,
    id: Uuid,
    name: String,
    revert_of: Option<Uuid>,
) -> AppResult<pipeline::Model> {
    let current = find(conn, id).await?;
    let row = pipeline::ActiveModel {
        id: Set(id),
        name: Set(name),
        updated_at: Set(Utc::now()),
        ..Default::default()
    };
    Pipelines::update(conn, actor, &current, row, revert_of).await
}

/// Deletes a pipeline that holds no opportunities.
pub async fn delete<C: ConnectionTrait>(conn: &C, actor: &Principal, id: Uuid) -> AppResult<()> {
    let current = find(conn, id).await?;
    let held = opportunity::Entity::find()
        .filter(opportunity::Column::PipelineId.eq(id))
        .count(conn)
        .await?;
    if held > 0 {
        return Err(AppError::Conflict(format!(
            "the pipeline holds {held} opportunities; move or delete them first"
        )));
    }
    pipeline::Entity::delete_by_id(id).exec(conn).await?;
    if current.is_default
        && let Some(next) = pipeline::Entity::find()
            .order_by_asc(pipeline::Column::Position)
            .one(conn)
            .await?
    {
        pipeline::ActiveModel {
            id: Set(next.id),
            is_default: Set(true),
            ..Default::default()
        }
        .update(conn)
        .await?;
    }
    Pipelines::deleted(actor, id, &current).record(conn).await
}

/// Adds a stage at `position` (default: the end).
pub async fn add_stage<C: ConnectionTrait>(
    conn: &C,
    actor: &Principal,
    pipeline_id: Uuid,
    stage: NewStage,
    position: Option<i32>,
) -> AppResult<pipeline_stage::Model> {
    find(conn, pipeline_id).await?;
    lock(conn, pipeline_id).await?;
    let stages = stages_of(conn, pipeline_id).await?;
    check_stage_count(stages.len() + 1, "pipelineId")?;
    let position = position
        .unwrap_or(stages.len() as i32)
        .clamp(0, stages.len() as i32);
    let now = Utc::now();
    let model = pipeline_stage::ActiveModel {
        id: Set(Uuid::now_v7()),
        pipeline_id: Set(pipeline_id),
        name: Set(stage.name),
        position: Set(position),
        probability: Set(stage.probability),
        kind: Set(stage.kind.as_str().into()),
        created_at: Set(now),
        updated_at: Set(now),
    }
    .insert(conn)
    .await?;
    let mut order: Vec<Uuid> = stages.iter().map(|s| s.id).collect();
    order.insert(position as usize, model.id);
    renumber(conn, &order).await?;
    Stages::created(actor, model.id, &model)
        .record(conn)
        .await?;
    find_stage(conn, model.id).await
}

pub async fn update_stage<C: ConnectionTrait>(
    conn: &C,
    actor: &Principal,
    id: Uuid,
    changes: StageChanges,
    revert_of: Option<Uuid>,
) -> AppResult<pipeline_stage::Model> {
    let current = find_stage(conn, id).await?;
    let row = pipeline_stage::ActiveModel {
        id: Set(id),
        name: Set(changes.name.unwrap_or(current.name.clone())),
        probability: Set(changes.probability.unwrap_or(current.probability)),
        kind: Set(changes
            .kind
            .map(|k| k.as_str().to_owned())
            .unwrap_or(current.kind.clone())),
        updated_at: Set(Utc::now()),
        ..Default::default()
    };
    Stages::update(conn, actor, &current, row, revert_of).await
}

/// Puts the pipeline's stages in the given order; every stage exactly once.
pub async fn reorder_stages<C: ConnectionTrait>(
    conn: &C,
    actor: &Principal,
    pipeline_id: Uuid,
    order: Vec<Uuid>,
) -> AppResult<Vec<pipeline_stage::Model>> {
    find(conn, pipeline_id).await?;
    lock(conn, pipeline_id).await?;
    let stages = stages_of(conn, pipeline_id).await?;
    let mut given = order.clone();
    given.sort();
    let mut existing: Vec<Uuid> = stages.iter().map(|s| s.id).collect();
    existing.sort();
    if given != existing {
        return Err(AppError::bad_input(
            "stageIds",
            "list every stage of the pipeline exactly once",
        ));
    }
    renumber(conn, &order).await?;
    for (position, stage) in stages.iter().enumerate() {
        let new_position = order
            .iter()
            .position(|id| *id == stage.id)
            .unwrap_or(position);
        if new_position != stage.position as usize {
            let mut moved = stage.clone();
            moved.position = new_position as i32;
            Stages::updated(actor, stage.id, stage, &moved, None)
                .record(conn)
                .await?;
        }
    }
    stages_of(conn, pipeline_id).await
}

pub(crate) async fn renumber<C: ConnectionTrait>(conn: &C, order: &[Uuid]) -> AppResult<()> {
    for (position, id) in order.iter().enumerate() {
        pipeline_stage::Entity::update_many()
            .col_expr(
                pipeline_stage::Column::Position,
                sea_orm::sea_query::Expr::value(position as i32),
            )
            .filter(pipeline_stage::Column::Id.eq(*id))
            .exec(conn)
            .await?;
    }
    Ok(())
}

/// Deletes a stage; the opportunities it holds move to `move_to` (a stage of the same
/// pipeline), which is then required.
pub async fn delete_stage<C: ConnectionTrait>(
    conn: &C,
    actor: &Principal,
    id: Uuid,
    move_to: Option<Uuid>,
) -> AppResult<()> {
    let stage = find_stage(conn, id).await?;
    lock(conn, stage.pipeline_id).await?;
    let stages = stages_of(conn, stage.pipeline_id).await?;
    if stages.len() == 1 {
        return Err(AppError::bad_input(
            "id",
            "a pipeline keeps at least one stage",
        ));
    }
    let held = opportunity::Entity::find()
        .filter(opportunity::Column::StageId.eq(id))
        .order_by_asc(opportunity::Column::Position)
        .all(conn)
        .await?;
    if !held.is_empty() {
        let target = match move_to {
            None => {
                return Err(AppError::bad_input(
                    "moveOpportunitiesTo",
                    format!(
                        "the stage holds {} opportunities: name a stage to move them to",
                        held.len()
                    ),
                ));
            }
            Some(target) if target == id => {
                return Err(AppError::bad_input(
                    "moveOpportunitiesTo",
                    "choose another stage",
                ));
            }
            Some(target) => stages
                .iter()
                .find(|s| s.id == target)
                .cloned()
                .ok_or_else(|| {
                    AppError::bad_input("moveOpportunitiesTo", "not a stage of this pipeline")
                })?,
        };
        for opportunity in held {
            place_in_stage(conn, actor, opportunity, &target, None).await?;
        }
    }
    pipeline_stage::Entity::delete_by_id(id).exec(conn).await?;
    let order: Vec<Uuid> = stages.iter().map(|s| s.id).filter(|s| *s != id).collect();
    renumber(conn, &order).await?;
    Stages::deleted(actor, id, &stage).record(conn).await
}

/// A pipeline's changes, read from a stored snapshot by stored field names when an update is
/// reverted.
#[derive(Default, Deserialize)]
#[serde(default)]
pub struct PipelineChanges {
    pub name: Option<String>,
}

/// Applies `changes` to the pipeline (today: its name).
pub async fn update<C: ConnectionTrait>(
    conn: &C,
    actor: &Principal,
    id: Uuid,
    changes: PipelineChanges,
    revert_of: Option<Uuid>,
) -> AppResult<pipeline::Model> {
    match changes.name {
        Some(name) => rename(conn, actor, id, name, revert_of).await,
        None => find(conn, id).await,
    }
}
