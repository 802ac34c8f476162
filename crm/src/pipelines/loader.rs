//! Pipelines' and the board's dataloaders.

use std::{collections::HashMap, sync::Arc};

use entity::tenant::{opportunity, pipeline, pipeline_stage};
use platform::{by_id, tx_loader};
use uuid::Uuid;

use crate::{
    pipelines::board::{
        CardColumns, Edges, StageTotals, first_per_stage, stage_totals, stages_by_pipeline,
    },
    types::StageKind,
};

by_id!(PipelineById, pipeline);

by_id!(StageById, pipeline_stage);

tx_loader!(
    /// pipeline id -> its stages in board order.
    StagesByPipeline, Uuid => Vec<pipeline_stage::Model>, |conn, keys| {
        stages_by_pipeline(conn, keys).await
    }
);

tx_loader!(
    /// (stage id, its kind, n, the edges' columns) -> the first n opportunities of the stage
    /// in board order, with their edges.
    FirstOpportunitiesPerStage, (Uuid, StageKind, u64, CardColumns) => Vec<(opportunity::Model, Arc<Edges>)>, |conn, keys| {
        let mut by_shape: HashMap<(u64, CardColumns), Vec<(Uuid, StageKind)>> =
            HashMap::new();
        for (stage, kind, limit, columns) in keys {
            by_shape.entry((*limit, *columns)).or_default().push((*stage, *kind));
        }
        let mut loaded = HashMap::new();
        for ((limit, columns), stages) in by_shape {
            let mut rows = first_per_stage(conn, &stages, limit, columns).await?;
            for (stage, kind) in stages {
                if let Some(rows) = rows.remove(&stage) {
                    loaded.insert((stage, kind, limit, columns), rows);
                }
            }
        }
        Ok(loaded)
    }
);

tx_loader!(
    /// stage id -> its count and value per currency.
    StageTotalsLoader, Uuid => StageTotals, |conn, keys| {
        stage_totals(conn, keys).await
    }
);
