//! The board's read model: a pipeline with its stages and totals, and each stage's first cards
//! with their edges, in few statements.

use std::{collections::HashMap, sync::Arc};

use entity::{
    positioned::{ColumnMask, Positioned, RowReader},
    tenant::{activity, company, contact, opportunity, pipeline, pipeline_stage, user},
};
use platform::{
    db::sql::{FirstPerParent, Sql},
    error::{AppError, AppResult},
};
use sea_orm::{
    ColumnTrait, ConnectionTrait, DbErr, EntityTrait, FromQueryResult, QueryFilter, QueryOrder,
    QueryResult,
};
use uuid::Uuid;

use crate::types::StageKind;

/// Open value of a stage in one currency.
#[derive(Clone, Debug, FromQueryResult)]
pub struct StageCurrencyTotal {
    pub stage_id: Uuid,
    pub currency: String,
    pub count: i64,
    pub amount: i64,
}

/// What a stage holds: its count and its value per currency.
#[derive(Clone, Debug, Default)]
pub struct StageTotals {
    pub count: i64,
    pub by_currency: Vec<(String, i64)>,
}

impl StageTotals {
    /// Adds one currency's row of a `GROUP BY stage, currency`, in currency order.
    pub fn add(&mut self, currency: String, count: i64, amount: i64) {
        self.count += count;
        self.by_currency.push((currency, amount));
    }
}

/// The first `limit` opportunities of each stage in board order, those whose status matches
/// the stage's kind (open deals in open stages), each with the columns `edges` asks of its
/// contact, company, owner (and latest activity), in one statement: a `LATERAL ... LIMIT`
/// per stage on PostgreSQL (it walks the board index), a window function on SQLite.
/// A board's cards then cost no statement and no dataloader wait of their own.
///
/// On PostgreSQL the stages' kinds travel with their ids rather than from a join: every
/// table a statement names costs its planning, which every other tenant's `search_path`
/// repeats.
pub async fn first_per_stage<C: ConnectionTrait>(
    conn: &C,
    stages: &[(Uuid, StageKind)],
    limit: u64,
    edges: CardColumns,
) -> AppResult<HashMap<Uuid, Vec<(opportunity::Model, Arc<Edges>)>>> {
    if stages.is_empty() {
        return Ok(HashMap::new());
    }
    // The board knows its stages: the cards' rows leave them out.
    let joins = CardJoins {
        edges,
        stage: false,
    };
    let columns = joins.columns();
    let sql = Sql::on(conn);
    let activity = match edges.latest_activity {
        Some(mask) if sql.is_postgres() => format!(
            " LEFT JOIN LATERAL (SELECT {} FROM activities x \
               WHERE x.opportunity_id = o.id ORDER BY x.id DESC LIMIT 1) a ON true",
            activity::Model::select_masked("x", mask)
        ),
        Some(_) => " LEFT JOIN activities a ON a.id = (SELECT y.id FROM activities y \
               WHERE y.opportunity_id = o.id ORDER BY y.id DESC LIMIT 1)"
            .to_owned(),
        None => String::new(),
    };
    let keys: Vec<Vec<sea_orm::Value>> = stages
        .iter()
        .map(|(id, kind)| vec![(*id).into(), kind.as_str().into()])
        .collect();
    let opportunity = opportunity::Model::select("x");
    let statement = FirstPerParent {
        table: "opportunities",
        key_columns: &[("stage_id", "uuid"), ("status", "text")],
        order: "x.position, x.id",
        columns: &opportunity,
        alias: "o",
    }
    .statement(sql, &keys, limit, |cards| {
        format!("SELECT {columns} FROM {cards} {CARD_EDGES}{activity}")
    });
    let rows = conn.query_all_raw(statement).await?;
    let mut grouped: HashMap<Uuid, Vec<(opportunity::Model, Arc<Edges>)>> = HashMap::new();
    for row in rows {
        let (model, edges) = joins.decode(&row)?;
        grouped
            .entry(model.stage_id)
            .or_default()
            .push((model, Arc::new(edges)));
    }
    for rows in grouped.values_mut() {
        rows.sort_by_key(|(o, _)| (o.position, o.id));
    }
    Ok(grouped)
}

/// The joins of a card's row (opportunity `o`, contact `c`, company `co`, owner `u`, and
/// when selected stage `s` and latest activity `a`) after `FROM ... o`.
pub(crate) const CARD_EDGES: &str = "LEFT JOIN contacts c ON c.id = o.contact_id \
     LEFT JOIN companies co ON co.id = o.company_id \
     LEFT JOIN users u ON u.id = o.owner_id";

/// What a card's row carries of its edges: the columns of its contact, company and owner
/// that a selection reads, and its latest activity's, if selected.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct CardColumns {
    pub contact: ColumnMask,
    pub company: ColumnMask,
    pub owner: ColumnMask,
    pub latest_activity: Option<ColumnMask>,
}

impl CardColumns {
    /// Every column of contact, company and owner, without the latest activity.
    pub const ALL: CardColumns = CardColumns {
        contact: ColumnMask::ALL,
        company: ColumnMask::ALL,
        owner: ColumnMask::ALL,
        latest_activity: None,
    };
}

/// The shape of a card's row: its edges' columns, and the whole stage or not.
#[derive(Clone, Copy)]
pub(crate) struct CardJoins {
    edges: CardColumns,
    stage: bool,
}

impl CardJoins {
    /// The SELECT list, in the order `decode` reads it.
    fn columns(self) -> String {
        let edges = self.edges;
        let mut columns = vec![
            opportunity::Model::select("o"),
            contact::Model::select_masked("c", edges.contact),
            company::Model::select_masked("co", edges.company),
            user::Model::select_masked("u", edges.owner),
        ];
        if self.stage {
            columns.push(pipeline_stage::Model::select("s"));
        }
        if let Some(activity) = edges.latest_activity {
            columns.push(activity::Model::select_masked("a", activity));
        }
        columns.join(", ")
    }

    fn decode(self, row: &QueryResult) -> Result<(opportunity::Model, Edges), DbErr> {
        let edges = self.edges;
        let mut reader = RowReader::new(row);
        let model = reader.model::<opportunity::Model>(ColumnMask::ALL)?;
        let contact = reader.optional(edges.contact)?;
        let company = reader.optional(edges.company)?;
        let owner = reader.optional(edges.owner)?;
        let stage = if self.stage {
            reader.optional(ColumnMask::ALL)?
        } else {
            None
        };
        let latest_activity = edges
            .latest_activity
            .map(|mask| reader.optional(mask))
            .transpose()?;
        Ok((
            model,
            Edges {
                contact,
                company,
                owner,
                stage,
                latest_activity,
            },
        ))
    }
}

/// Count and value per currency of each stage (deals whose status matches the stage), in
/// one statement.
pub async fn stage_totals<C: ConnectionTrait>(
    conn: &C,
    stage_ids: &[Uuid],
) -> AppResult<HashMap<Uuid, StageTotals>> {
    if stage_ids.is_empty() {
        return Ok(HashMap::new());
    }
    let mut sql = Sql::on(conn);
    let stages = sql.bind_list(stage_ids.iter().copied());
    let text = format!(
        "SELECT o.stage_id, o.currency, COUNT(*) AS count, CAST(SUM(o.value_amount) AS BIGINT) AS amount \
         FROM opportunities o JOIN pipeline_stages s ON s.id = o.stage_id \
         WHERE o.stage_id IN ({stages}) AND o.status = s.kind \
         GROUP BY o.stage_id, o.currency ORDER BY o.stage_id, o.currency"
    );
    let rows = StageCurrencyTotal::find_by_statement(sql.statement(text))
        .all(conn)
        .await?;
    let mut totals: HashMap<Uuid, StageTotals> = HashMap::new();
    for row in rows {
        totals
            .entry(row.stage_id)
            .or_default()
            .add(row.currency, row.count, row.amount);
    }
    Ok(totals)
}

/// What a board card may select of an opportunity, loaded with it (by the board query, or
/// once per change for every board subscriber). The board's hold only the columns its
/// selection reads (see `CardColumns`): they answer that selection and nothing else.
#[derive(Clone, Debug, Default)]
pub struct Edges {
    pub contact: Option<entity::tenant::contact::Model>,
    pub company: Option<entity::tenant::company::Model>,
    pub owner: Option<entity::tenant::user::Model>,
    pub stage: Option<pipeline_stage::Model>,
    /// `Some` when loaded with the opportunity: its latest activity, if it has one.
    pub latest_activity: Option<Option<entity::tenant::activity::Model>>,
}

/// An opportunity with its contact, company, owner and stage; `None` once deleted.
pub async fn with_edges<C: ConnectionTrait>(
    conn: &C,
    id: Uuid,
) -> AppResult<Option<(opportunity::Model, Edges)>> {
    let joins = CardJoins {
        edges: CardColumns::ALL,
        stage: true,
    };
    let mut sql = Sql::on(conn);
    let text = format!(
        "SELECT {columns} FROM opportunities o {CARD_EDGES} \
         LEFT JOIN pipeline_stages s ON s.id = o.stage_id WHERE o.id = {id}",
        columns = joins.columns(),
        id = sql.bind(id)
    );
    let row = conn.query_one_raw(sql.statement(text)).await?;
    Ok(row.map(|row| joins.decode(&row)).transpose()?)
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

/// A pipeline with its stages in board order and, when asked for, each stage's totals.
pub struct Board {
    pub pipeline: pipeline::Model,
    pub stages: Vec<(pipeline_stage::Model, Option<StageTotals>)>,
}

/// The pipeline, its stages and (with `totals`) each stage's count and value per currency
/// (deals whose status matches the stage), in one statement: a board's head. Statements are
/// what a request costs PostgreSQL most when tenants take turns, since each one is analysed
/// and planned again under every other tenant's `search_path`.
pub async fn board<C: ConnectionTrait>(conn: &C, id: Uuid, totals: bool) -> AppResult<Board> {
    let mut sql = Sql::on(conn);
    let mut columns = format!(
        "{}, {}",
        pipeline::Model::select("p"),
        pipeline_stage::Model::select("s")
    );
    let mut from =
        String::from("FROM pipelines p LEFT JOIN pipeline_stages s ON s.pipeline_id = p.id");
    if totals {
        columns.push_str(", t.currency, t.count, t.amount");
        if sql.is_postgres() {
            from.push_str(
                " LEFT JOIN LATERAL (SELECT o.currency, COUNT(*) AS count, \
                   CAST(SUM(o.value_amount) AS BIGINT) AS amount FROM opportunities o \
                   WHERE o.stage_id = s.id AND o.status = s.kind GROUP BY o.currency) t ON true",
            );
        } else {
            // SQLite has no LATERAL: the pipeline's totals, grouped, joined to their stage.
            from.push_str(&format!(
                " LEFT JOIN (SELECT o.stage_id, o.currency, COUNT(*) AS count, \
                   CAST(SUM(o.value_amount) AS BIGINT) AS amount FROM opportunities o \
                   JOIN pipeline_stages k ON k.id = o.stage_id \
                   WHERE k.pipeline_id = {} AND o.status = k.kind \
                   GROUP BY o.stage_id, o.currency) t ON t.stage_id = s.id",
                sql.bind(id)
            ));
        }
    }
    let order = if totals { ", t.currency" } else { "" };
    let text = format!(
        "SELECT {columns} {from} WHERE p.id = {} ORDER BY s.position{order}",
        sql.bind(id)
    );
    let rows = conn.query_all_raw(sql.statement(text)).await?;
    let mut pipeline = None;
    let mut stages: Vec<(pipeline_stage::Model, Option<StageTotals>)> = Vec::new();
    for row in rows {
        let mut reader = RowReader::new(&row);
        let head = reader.model::<pipeline::Model>(ColumnMask::ALL)?;
        pipeline.get_or_insert(head);
        let Some(stage) = reader.optional::<pipeline_stage::Model>(ColumnMask::ALL)? else {
            continue;
        };
        if stages.last().is_none_or(|(last, _)| last.id != stage.id) {
            stages.push((stage, totals.then(StageTotals::default)));
        }
        if totals {
            let currency: Option<String> = reader.value()?;
            let count: Option<i64> = reader.value()?;
            let amount: Option<i64> = reader.value()?;
            if let (Some(currency), Some((_, Some(totals)))) = (currency, stages.last_mut()) {
                totals.add(currency, count.unwrap_or(0), amount.unwrap_or(0));
            }
        }
    }
    Ok(Board {
        pipeline: pipeline.ok_or(AppError::NotFound("pipeline"))?,
        stages,
    })
}
