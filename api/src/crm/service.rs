//! Pipeline rules: the default pipeline every tenant starts with, and reads.

use std::collections::HashMap;

use chrono::Utc;
use entity::tenant::{pipeline, pipeline_stage};
use sea_orm::{
    ActiveModelTrait, ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter, QueryOrder, Set,
};
use uuid::Uuid;

use crate::error::AppResult;

/// The stages of the pipeline a new tenant gets: name, win probability, kind.
const DEFAULT_STAGES: &[(&str, i16, &str)] = &[
    ("Lead", 10, "open"),
    ("Qualified", 25, "open"),
    ("Proposal", 50, "open"),
    ("Negotiation", 75, "open"),
    ("Won", 100, "won"),
    ("Lost", 0, "lost"),
];

/// Creates the default "Sales" pipeline with its stages.
pub async fn seed_default_pipeline<C: ConnectionTrait>(conn: &C) -> AppResult<pipeline::Model> {
    let now = Utc::now();
    let pipeline = pipeline::ActiveModel {
        id: Set(Uuid::now_v7()),
        name: Set("Sales".into()),
        is_default: Set(true),
        position: Set(0),
        created_at: Set(now),
        updated_at: Set(now),
    }
    .insert(conn)
    .await?;
    let stages = DEFAULT_STAGES
        .iter()
        .enumerate()
        .map(
            |(position, (name, probability, kind))| pipeline_stage::ActiveModel {
                id: Set(Uuid::now_v7()),
                pipeline_id: Set(pipeline.id),
                name: Set((*name).into()),
                position: Set(position as i32),
                probability: Set(*probability),
                kind: Set((*kind).into()),
                created_at: Set(now),
                updated_at: Set(now),
            },
        );
    pipeline_stage::Entity::insert_many(stages)
        .exec(conn)
        .await?;
    Ok(pipeline)
}

pub async fn list_pipelines<C: ConnectionTrait>(conn: &C) -> AppResult<Vec<pipeline::Model>> {
    Ok(pipeline::Entity::find()
        .order_by_asc(pipeline::Column::Position)
        .order_by_asc(pipeline::Column::Id)
        .all(conn)
        .await?)
}

/// The stages of each pipeline in `pipeline_ids`, in board order, in one statement.
pub async fn stages_by_pipeline<C: ConnectionTrait>(
    conn: &C,
    pipeline_ids: &[Uuid],
) -> AppResult<HashMap<Uuid, Vec<pipeline_stage::Model>>> {
    let rows = pipeline_stage::Entity::find()
        .filter(pipeline_stage::Column::PipelineId.is_in(pipeline_ids.iter().copied()))
        .order_by_asc(pipeline_stage::Column::PipelineId)
        .order_by_asc(pipeline_stage::Column::Position)
        .all(conn)
        .await?;
    let mut grouped: HashMap<Uuid, Vec<pipeline_stage::Model>> = HashMap::new();
    for row in rows {
        grouped.entry(row.pipeline_id).or_default().push(row);
    }
    Ok(grouped)
}
