//! Opportunities: deals moving through a pipeline's stages.

use std::{collections::HashMap, sync::Arc};

use chrono::{NaiveDate, Utc};
use entity::{
    positioned::{ColumnMask, Positioned, RowReader},
    tenant::{activity, company, contact, opportunity, pipeline_stage, stage_change, user},
};
use sea_orm::{
    ActiveModelTrait, ColumnTrait, Condition, ConnectionTrait, DbBackend, DbErr, EntityTrait,
    FromQueryResult, PaginatorTrait, QueryFilter, QueryOrder, QueryResult, Set, Statement,
    sea_query::{Expr, ExprTrait, LikeExpr},
};
use serde_json::Value;
use uuid::Uuid;

use super::{
    Patch,
    audit::{self, Change, Snapshot},
    ensure_company, ensure_user, find_contact, find_opportunity, like_pattern, pipelines,
};
use crate::types::{AuditEntityType, OpportunityStatus, StageKind};
use platform::{
    auth::Principal,
    db::{
        keyset::{PageRequest, SortKey, keyset},
        sql::Sql,
    },
    domain::Money,
    error::{AppError, AppResult},
};

pub struct NewOpportunity {
    pub title: String,
    pub pipeline_id: Option<Uuid>,
    pub stage_id: Option<Uuid>,
    pub contact_id: Option<Uuid>,
    pub company_id: Option<Uuid>,
    /// `None`: the creator.
    pub owner_id: Option<Uuid>,
    pub value: Money,
    pub expected_close_date: Option<NaiveDate>,
}

#[derive(Default)]
pub struct OpportunityChanges {
    pub title: Option<String>,
    pub contact_id: Patch<Uuid>,
    pub company_id: Patch<Uuid>,
    pub owner_id: Patch<Uuid>,
    pub value: Option<Money>,
    pub expected_close_date: Patch<NaiveDate>,
}

#[derive(Clone, Debug, Default)]
pub struct OpportunityFilter {
    pub pipeline_id: Option<Uuid>,
    pub stage_id: Option<Uuid>,
    pub statuses: Vec<OpportunityStatus>,
    pub owner_id: Option<Uuid>,
    pub contact_id: Option<Uuid>,
    pub company_id: Option<Uuid>,
    /// Part of the title.
    pub search: Option<String>,
}

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

fn snapshot(model: &opportunity::Model) -> Snapshot {
    audit::snapshot(model)
}

async fn check_references<C: ConnectionTrait>(
    conn: &C,
    contact_id: Option<Uuid>,
    company_id: Option<Uuid>,
    owner_id: Option<Uuid>,
) -> AppResult<()> {
    if let Some(contact_id) = contact_id {
        find_contact(conn, contact_id).await?;
    }
    if let Some(company_id) = company_id {
        ensure_company(conn, company_id).await?;
    }
    if let Some(owner_id) = owner_id {
        ensure_user(conn, owner_id).await?;
    }
    Ok(())
}

/// Resolves where a new opportunity goes: the named stage, else the first open stage of the
/// named (or default) pipeline.
async fn initial_stage<C: ConnectionTrait>(
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

async fn stage_size<C: ConnectionTrait>(
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

async fn record_stage_change<C: ConnectionTrait>(
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
        changed_by: Set(Some(actor.user_id)),
        changed_at: Set(Utc::now()),
    }
    .insert(conn)
    .await?;
    Ok(())
}

pub async fn create<C: ConnectionTrait>(
    conn: &C,
    actor: &Principal,
    new: NewOpportunity,
) -> AppResult<opportunity::Model> {
    let stage = initial_stage(conn, new.pipeline_id, new.stage_id).await?;
    let owner_id = new.owner_id.unwrap_or(actor.user_id);
    check_references(conn, new.contact_id, new.company_id, Some(owner_id)).await?;
    pipelines::lock(conn, stage.pipeline_id).await?;
    let kind = StageKind::from_stored(&stage.kind)?;
    let status = OpportunityStatus::from(kind);
    let now = Utc::now();
    let model = opportunity::ActiveModel {
        id: Set(Uuid::now_v7()),
        title: Set(new.title),
        contact_id: Set(new.contact_id),
        company_id: Set(new.company_id),
        owner_id: Set(Some(owner_id)),
        pipeline_id: Set(stage.pipeline_id),
        stage_id: Set(stage.id),
        value_amount: Set(new.value.minor()),
        currency: Set(new.value.currency_code().to_owned()),
        expected_close_date: Set(new.expected_close_date),
        status: Set(status.as_str().into()),
        lost_reason: Set(None),
        stage_entered_at: Set(now),
        position: Set(stage_size(conn, stage.id, None).await?),
        closed_at: Set((status != OpportunityStatus::Open).then_some(now)),
        created_at: Set(now),
        updated_at: Set(now),
    }
    .insert(conn)
    .await?;
    record_stage_change(conn, actor, model.id, None, stage.id).await?;
    let after = snapshot(&model);
    audit::record(
        conn,
        Change::created(
            actor.user_id,
            AuditEntityType::Opportunity,
            model.id,
            &after,
        ),
    )
    .await?;
    Ok(model)
}

pub async fn update<C: ConnectionTrait>(
    conn: &C,
    actor: &Principal,
    id: Uuid,
    changes: OpportunityChanges,
    revert_of: Option<Uuid>,
) -> AppResult<opportunity::Model> {
    let current = find_opportunity(conn, id).await?;
    let set = |p: &Patch<Uuid>| match p {
        Patch::Set(v) => Some(*v),
        _ => None,
    };
    check_references(
        conn,
        set(&changes.contact_id),
        set(&changes.company_id),
        set(&changes.owner_id),
    )
    .await?;
    let before = snapshot(&current);
    let (value_amount, currency) = match changes.value {
        Some(money) => (money.minor(), money.currency_code().to_owned()),
        None => (current.value_amount, current.currency.clone()),
    };
    let model = opportunity::ActiveModel {
        id: Set(id),
        title: Set(changes.title.unwrap_or(current.title.clone())),
        contact_id: Set(changes.contact_id.apply(current.contact_id)),
        company_id: Set(changes.company_id.apply(current.company_id)),
        owner_id: Set(changes.owner_id.apply(current.owner_id)),
        value_amount: Set(value_amount),
        currency: Set(currency),
        expected_close_date: Set(changes
            .expected_close_date
            .apply(current.expected_close_date)),
        updated_at: Set(Utc::now()),
        ..Default::default()
    }
    .update(conn)
    .await?;
    let after = snapshot(&model);
    audit::record(
        conn,
        Change::updated(
            actor.user_id,
            AuditEntityType::Opportunity,
            id,
            &before,
            &after,
            revert_of,
        ),
    )
    .await?;
    Ok(model)
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

async fn place<C: ConnectionTrait>(
    conn: &C,
    actor: &Principal,
    current: opportunity::Model,
    stage: &pipeline_stage::Model,
    position: Option<i64>,
    lost_reason: Option<String>,
) -> AppResult<opportunity::Model> {
    let before = snapshot(&current);
    opportunity::Entity::update_many()
        .col_expr(
            opportunity::Column::Position,
            Expr::col(opportunity::Column::Position).sub(1),
        )
        .filter(opportunity::Column::StageId.eq(current.stage_id))
        .filter(opportunity::Column::Position.gt(current.position))
        .filter(opportunity::Column::Id.ne(current.id))
        .exec(conn)
        .await?;
    let size = stage_size(conn, stage.id, Some(current.id)).await?;
    let position = position.unwrap_or(size).clamp(0, size);
    opportunity::Entity::update_many()
        .col_expr(
            opportunity::Column::Position,
            Expr::col(opportunity::Column::Position).add(1),
        )
        .filter(opportunity::Column::StageId.eq(stage.id))
        .filter(opportunity::Column::Position.gte(position))
        .filter(opportunity::Column::Id.ne(current.id))
        .exec(conn)
        .await?;
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
    let after = snapshot(&model);
    audit::record(
        conn,
        Change::updated(
            actor.user_id,
            AuditEntityType::Opportunity,
            current.id,
            &before,
            &after,
            None,
        ),
    )
    .await?;
    Ok(model)
}

/// Closes an opportunity as won or lost: it moves to the pipeline's first stage of that
/// kind, or keeps its stage with the new status when the pipeline has none.
pub async fn close<C: ConnectionTrait>(
    conn: &C,
    actor: &Principal,
    id: Uuid,
    outcome: StageKind,
    lost_reason: Option<String>,
) -> AppResult<opportunity::Model> {
    let current = find_opportunity(conn, id).await?;
    pipelines::lock(conn, current.pipeline_id).await?;
    let current = find_opportunity(conn, id).await?;
    let stages = pipelines::stages_of(conn, current.pipeline_id).await?;
    let target = stages.iter().find(|s| s.kind == outcome.as_str());
    match target {
        Some(stage) if stage.id == current.stage_id => {
            place(
                conn,
                actor,
                current.clone(),
                stage,
                Some(current.position),
                lost_reason,
            )
            .await
        }
        Some(stage) => place(conn, actor, current, stage, None, lost_reason).await,
        None => {
            let before = snapshot(&current);
            let status = OpportunityStatus::from(outcome);
            let model = opportunity::ActiveModel {
                id: Set(id),
                status: Set(status.as_str().into()),
                closed_at: Set(Some(Utc::now())),
                lost_reason: Set(lost_reason),
                updated_at: Set(Utc::now()),
                ..Default::default()
            }
            .update(conn)
            .await?;
            let after = snapshot(&model);
            audit::record(
                conn,
                Change::updated(
                    actor.user_id,
                    AuditEntityType::Opportunity,
                    id,
                    &before,
                    &after,
                    None,
                ),
            )
            .await?;
            Ok(model)
        }
    }
}

pub async fn delete<C: ConnectionTrait>(conn: &C, actor: &Principal, id: Uuid) -> AppResult<()> {
    let current = find_opportunity(conn, id).await?;
    pipelines::lock(conn, current.pipeline_id).await?;
    let current = find_opportunity(conn, id).await?;
    opportunity::Entity::delete_by_id(id).exec(conn).await?;
    opportunity::Entity::update_many()
        .col_expr(
            opportunity::Column::Position,
            Expr::col(opportunity::Column::Position).sub(1),
        )
        .filter(opportunity::Column::StageId.eq(current.stage_id))
        .filter(opportunity::Column::Position.gt(current.position))
        .exec(conn)
        .await?;
    let before = snapshot(&current);
    audit::record(
        conn,
        Change::deleted(actor.user_id, AuditEntityType::Opportunity, id, &before),
    )
    .await
}

/// Restores the values an audit entry replaced: fields by update, stage and position by a
/// move (so positions and stage history stay right).
pub async fn revert<C: ConnectionTrait>(
    conn: &C,
    actor: &Principal,
    id: Uuid,
    values: &Snapshot,
    revert_of: Uuid,
) -> AppResult<opportunity::Model> {
    let text = |v: &Value| v.as_str().map(str::to_owned);
    let uuid = |v: &Value| v.as_str().and_then(|s| Uuid::parse_str(s).ok());
    let mut changes = OpportunityChanges::default();
    let current = find_opportunity(conn, id).await?;
    for (field, value) in values {
        match field.as_str() {
            "title" => changes.title = text(value),
            "contact_id" => changes.contact_id = uuid(value).map_or(Patch::Clear, Patch::Set),
            "company_id" => changes.company_id = uuid(value).map_or(Patch::Clear, Patch::Set),
            "owner_id" => changes.owner_id = uuid(value).map_or(Patch::Clear, Patch::Set),
            "expected_close_date" => {
                changes.expected_close_date = text(value)
                    .and_then(|d| d.parse::<NaiveDate>().ok())
                    .map_or(Patch::Clear, Patch::Set)
            }
            _ => {}
        }
    }
    if values.contains_key("value_amount") || values.contains_key("currency") {
        let amount = values
            .get("value_amount")
            .and_then(Value::as_i64)
            .unwrap_or(current.value_amount);
        let currency = values
            .get("currency")
            .and_then(Value::as_str)
            .unwrap_or(&current.currency);
        changes.value = Some(Money::from_stored(amount, currency)?);
    }
    let mut model = update(conn, actor, id, changes, Some(revert_of)).await?;
    if values.contains_key("stage_id") || values.contains_key("position") {
        let stage_id = values
            .get("stage_id")
            .and_then(uuid)
            .unwrap_or(model.stage_id);
        let position = values.get("position").and_then(Value::as_i64);
        model = move_to(conn, actor, id, stage_id, position).await?;
    }
    Ok(model)
}

pub async fn stage_history<C: ConnectionTrait>(
    conn: &C,
    id: Uuid,
) -> AppResult<Vec<stage_change::Model>> {
    Ok(stage_change::Entity::find()
        .filter(stage_change::Column::OpportunityId.eq(id))
        .order_by_asc(stage_change::Column::Id)
        .all(conn)
        .await?)
}

fn condition(filter: &OpportunityFilter) -> Condition {
    let mut condition = Condition::all();
    if let Some(v) = filter.pipeline_id {
        condition = condition.add(opportunity::Column::PipelineId.eq(v));
    }
    if let Some(v) = filter.stage_id {
        condition = condition.add(opportunity::Column::StageId.eq(v));
    }
    if !filter.statuses.is_empty() {
        condition = condition
            .add(opportunity::Column::Status.is_in(filter.statuses.iter().map(|s| s.as_str())));
    }
    if let Some(v) = filter.owner_id {
        condition = condition.add(opportunity::Column::OwnerId.eq(v));
    }
    if let Some(v) = filter.contact_id {
        condition = condition.add(opportunity::Column::ContactId.eq(v));
    }
    if let Some(v) = filter.company_id {
        condition = condition.add(opportunity::Column::CompanyId.eq(v));
    }
    if let Some(search) = filter
        .search
        .as_deref()
        .map(str::trim)
        .filter(|s| !s.is_empty())
    {
        condition = condition.add(
            Expr::expr(sea_orm::sea_query::Func::lower(Expr::col(
                opportunity::Column::Title,
            )))
            .like(LikeExpr::new(like_pattern(search)).escape('\\')),
        );
    }
    condition
}

/// Opportunities in creation order.
pub async fn list<C: ConnectionTrait>(
    conn: &C,
    filter: &OpportunityFilter,
    page: &PageRequest,
) -> AppResult<Vec<opportunity::Model>> {
    let select = opportunity::Entity::find().filter(condition(filter));
    let mut rows = keyset(select, page, SortKey::Id, opportunity::Column::Id, false)?
        .all(conn)
        .await?;
    if page.backward {
        rows.reverse();
    }
    Ok(rows)
}

pub async fn count<C: ConnectionTrait>(conn: &C, filter: &OpportunityFilter) -> AppResult<u64> {
    Ok(opportunity::Entity::find()
        .filter(condition(filter))
        .count(conn)
        .await?)
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
    let backend = conn.get_database_backend();
    // The board knows its stages: the cards' rows leave them out.
    let joins = CardJoins {
        edges,
        stage: false,
    };
    let columns = joins.columns();
    let mut values: Vec<sea_orm::Value> = Vec::with_capacity(stages.len() * 2 + 1);
    let sql = match backend {
        DbBackend::Postgres => {
            let keys = (0..stages.len())
                .map(|i| format!("(${}::uuid, ${}::text)", 2 * i + 1, 2 * i + 2))
                .collect::<Vec<_>>()
                .join(", ");
            for (id, kind) in stages {
                values.push((*id).into());
                values.push(kind.as_str().into());
            }
            let activity = match edges.latest_activity {
                Some(mask) => format!(
                    " LEFT JOIN LATERAL (SELECT {} FROM activities x \
                       WHERE x.opportunity_id = o.id ORDER BY x.id DESC LIMIT 1) a ON true",
                    activity::Model::select_masked("x", mask)
                ),
                None => String::new(),
            };
            format!(
                "SELECT {columns} FROM (VALUES {keys}) AS k(stage_id, kind) \
                 CROSS JOIN LATERAL (SELECT {opportunity} FROM opportunities x \
                   WHERE x.stage_id = k.stage_id AND x.status = k.kind \
                   ORDER BY x.position, x.id LIMIT ${limit}) o {CARD_EDGES}{activity}",
                opportunity = opportunity::Model::select("x"),
                limit = 2 * stages.len() + 1
            )
        }
        _ => {
            let keys = vec!["?"; stages.len()].join(", ");
            values.extend(stages.iter().map(|(id, _)| sea_orm::Value::from(*id)));
            let activity = if edges.latest_activity.is_some() {
                " LEFT JOIN activities a ON a.id = (SELECT y.id FROM activities y \
                   WHERE y.opportunity_id = o.id ORDER BY y.id DESC LIMIT 1)"
            } else {
                ""
            };
            format!(
                "SELECT {columns} FROM (SELECT x.*, ROW_NUMBER() OVER \
                   (PARTITION BY x.stage_id ORDER BY x.position, x.id) AS board_rank \
                 FROM opportunities x JOIN pipeline_stages k ON k.id = x.stage_id \
                 WHERE x.stage_id IN ({keys}) AND x.status = k.kind) o \
                 {CARD_EDGES}{activity} WHERE o.board_rank <= ?"
            )
        }
    };
    values.push((limit as i64).into());
    let rows = conn
        .query_all_raw(Statement::from_sql_and_values(backend, sql, values))
        .await?;
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
const CARD_EDGES: &str = "LEFT JOIN contacts c ON c.id = o.contact_id \
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
struct CardJoins {
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

/// `amount` x `probability` %, rounded half up to the minor unit.
pub fn weighted(amount: i64, probability: i16) -> i64 {
    ((i128::from(amount) * i128::from(probability) + 50) / 100) as i64
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
