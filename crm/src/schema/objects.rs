//! CRM output types. Each wraps a model and resolves its edges through dataloaders.
//!
//! The types a list may hold by the hundred resolve their fields one after another
//! (`serial`): resolved concurrently, each object costs a task set with a task per field,
//! which was a good part of the board's time, and nothing is lost: their fields are
//! computed at once or wait on a dataloader that every item of the list feeds in the same
//! pass. `StageColumn` stays concurrent: its three totals read one loader that does not
//! cache, and in turn they would load it three times.

use std::sync::Arc;

use async_graphql::{ComplexObject, Context, ID, Json, Lookahead, Object, SimpleObject};
use chrono::{DateTime, NaiveDate, Utc};
use entity::{
    positioned::{ColumnMask, Positioned},
    tenant::{
        activity, audit_entry, company, contact, opportunity, pipeline, pipeline_stage,
        stage_change, user,
    },
};

use crate::{
    loader::{
        CompanyById, ContactById, ContactsByCompany, FirstOpportunitiesPerStage, LatestActivity,
        OpportunitiesByCompany, OpportunitiesByContact, OpportunityById, PipelineById, StageById,
        StageHistory, StageTotalsLoader, StagesByPipeline, TagsByContact,
    },
    service::{
        figures,
        opportunities::{self, CardColumns, StageTotals},
        pipelines,
    },
    types::{
        ActivityKind, AuditAction, AuditEntityType, CompanySize, ContactSource, ContactStatus,
        OpportunityStatus, StageKind,
    },
};
use identity::schema::{UserById, UserNode};
use platform::{
    error::{AppError, AppResult, GqlResult},
    graphql::{Money, load_one, money},
};

const MAX_EDGE_ITEMS: i32 = 100;

pub(crate) fn id(uuid: uuid::Uuid) -> ID {
    ID(uuid.to_string())
}

fn edge_limit(first: i32) -> AppResult<u64> {
    if !(0..=MAX_EDGE_ITEMS).contains(&first) {
        return Err(AppError::bad_input(
            "first",
            format!("first is between 0 and {MAX_EDGE_ITEMS}"),
        ));
    }
    Ok(first as u64)
}

async fn user(ctx: &Context<'_>, id: Option<uuid::Uuid>) -> GqlResult<Option<UserNode>> {
    let Some(id) = id else { return Ok(None) };
    Ok(load_one::<UserById, _>(ctx, id)
        .await?
        .map(UserNode::try_from)
        .transpose()?)
}

/// The columns of `M` that the fields selected under `field` read: `always`, then for each
/// field its columns in `reads`. A field `reads` does not name reads every column, so a
/// field added without its entry costs speed, never a wrong answer.
fn columns_read<M: Positioned>(
    field: &Lookahead<'_>,
    always: &[&str],
    reads: &[(&str, &[&str])],
) -> ColumnMask {
    let mut mask = ColumnMask::key().with::<M>(always);
    for selection in field.selection_fields() {
        for selected in selection.selection_set() {
            if selected.name() == "__typename" {
                continue;
            }
            mask = match reads.iter().find(|(name, _)| *name == selected.name()) {
                Some((_, columns)) => mask.with::<M>(columns),
                None => ColumnMask::ALL,
            };
        }
    }
    mask
}

/// A postal address.
#[derive(SimpleObject, Clone, serde::Serialize, serde::Deserialize, Default)]
#[serde(rename_all = "camelCase")]
pub struct Address {
    pub street: Option<String>,
    pub city: Option<String>,
    pub region: Option<String>,
    pub postal_code: Option<String>,
    /// ISO 3166-1 alpha-2.
    pub country: Option<String>,
}

pub struct ContactNode(pub contact::Model);

impl ContactNode {
    /// The columns each field reads (see `columns_read`).
    pub const READS: &[(&str, &[&str])] = &[
        ("id", &[]),
        ("firstName", &["first_name"]),
        ("lastName", &["last_name"]),
        ("fullName", &["first_name", "last_name"]),
        ("email", &["email"]),
        ("phone", &["phone"]),
        ("source", &["source"]),
        ("status", &["status"]),
        ("tags", &[]),
        ("customFields", &["custom_fields"]),
        ("company", &["company_id"]),
        ("owner", &["owner_id"]),
        ("opportunities", &[]),
        ("lastActivityAt", &["last_activity_at"]),
        ("createdAt", &["created_at"]),
        ("updatedAt", &["updated_at"]),
    ];
}

/// A person: a lead or a customer.
#[Object(name = "Contact", serial)]
impl ContactNode {
    async fn id(&self) -> ID {
        id(self.0.id)
    }
    async fn first_name(&self) -> &str {
        &self.0.first_name
    }
    async fn last_name(&self) -> Option<&str> {
        self.0.last_name.as_deref()
    }
    async fn full_name(&self) -> String {
        match &self.0.last_name {
            Some(last) => format!("{} {last}", self.0.first_name),
            None => self.0.first_name.clone(),
        }
    }
    async fn email(&self) -> Option<&str> {
        self.0.email.as_deref()
    }
    /// E.164.
    async fn phone(&self) -> Option<&str> {
        self.0.phone.as_deref()
    }
    async fn source(&self) -> GqlResult<ContactSource> {
        Ok(ContactSource::from_stored(&self.0.source)?)
    }
    async fn status(&self) -> GqlResult<ContactStatus> {
        Ok(ContactStatus::from_stored(&self.0.status)?)
    }
    async fn tags(&self, ctx: &Context<'_>) -> GqlResult<Vec<String>> {
        Ok(load_one::<TagsByContact, _>(ctx, self.0.id)
            .await?
            .unwrap_or_default())
    }
    /// Tenant-defined fields, a JSON object.
    async fn custom_fields(&self) -> Json<serde_json::Value> {
        Json(self.0.custom_fields.clone())
    }
    async fn company(&self, ctx: &Context<'_>) -> GqlResult<Option<CompanyNode>> {
        let Some(company_id) = self.0.company_id else {
            return Ok(None);
        };
        Ok(load_one::<CompanyById, _>(ctx, company_id)
            .await?
            .map(CompanyNode))
    }
    async fn owner(&self, ctx: &Context<'_>) -> GqlResult<Option<UserNode>> {
        user(ctx, self.0.owner_id).await
    }
    /// The contact's first opportunities, oldest first.
    #[graphql(complexity = "platform::graphql::complexity::list(first, child_complexity)")]
    async fn opportunities(
        &self,
        ctx: &Context<'_>,
        #[graphql(default = 20)] first: i32,
    ) -> GqlResult<Vec<OpportunityNode>> {
        let rows =
            load_one::<OpportunitiesByContact, _>(ctx, (self.0.id, edge_limit(first)?)).await?;
        Ok(rows
            .unwrap_or_default()
            .into_iter()
            .map(OpportunityNode::new)
            .collect())
    }
    async fn last_activity_at(&self) -> Option<DateTime<Utc>> {
        self.0.last_activity_at
    }
    async fn created_at(&self) -> DateTime<Utc> {
        self.0.created_at
    }
    async fn updated_at(&self) -> DateTime<Utc> {
        self.0.updated_at
    }
}

pub struct CompanyNode(pub company::Model);

impl CompanyNode {
    /// The columns each field reads (see `columns_read`).
    pub const READS: &[(&str, &[&str])] = &[
        ("id", &[]),
        ("name", &["name"]),
        ("domain", &["domain"]),
        ("industry", &["industry"]),
        ("size", &["size"]),
        ("address", &["address"]),
        ("owner", &["owner_id"]),
        ("contacts", &[]),
        ("opportunities", &[]),
        ("createdAt", &["created_at"]),
        ("updatedAt", &["updated_at"]),
    ];
}

/// A company (account) that contacts and opportunities belong to.
#[Object(name = "Company", serial)]
impl CompanyNode {
    async fn id(&self) -> ID {
        id(self.0.id)
    }
    async fn name(&self) -> &str {
        &self.0.name
    }
    async fn domain(&self) -> Option<&str> {
        self.0.domain.as_deref()
    }
    async fn industry(&self) -> Option<&str> {
        self.0.industry.as_deref()
    }
    async fn size(&self) -> GqlResult<Option<CompanySize>> {
        Ok(self
            .0
            .size
            .as_deref()
            .map(CompanySize::from_stored)
            .transpose()?)
    }
    async fn address(&self) -> Option<Address> {
        self.0
            .address
            .clone()
            .and_then(|a| serde_json::from_value(a).ok())
    }
    async fn owner(&self, ctx: &Context<'_>) -> GqlResult<Option<UserNode>> {
        user(ctx, self.0.owner_id).await
    }
    /// The company's first contacts, oldest first.
    #[graphql(complexity = "platform::graphql::complexity::list(first, child_complexity)")]
    async fn contacts(
        &self,
        ctx: &Context<'_>,
        #[graphql(default = 20)] first: i32,
    ) -> GqlResult<Vec<ContactNode>> {
        let rows = load_one::<ContactsByCompany, _>(ctx, (self.0.id, edge_limit(first)?)).await?;
        Ok(rows
            .unwrap_or_default()
            .into_iter()
            .map(ContactNode)
            .collect())
    }
    /// The company's first opportunities, oldest first.
    #[graphql(complexity = "platform::graphql::complexity::list(first, child_complexity)")]
    async fn opportunities(
        &self,
        ctx: &Context<'_>,
        #[graphql(default = 20)] first: i32,
    ) -> GqlResult<Vec<OpportunityNode>> {
        let rows =
            load_one::<OpportunitiesByCompany, _>(ctx, (self.0.id, edge_limit(first)?)).await?;
        Ok(rows
            .unwrap_or_default()
            .into_iter()
            .map(OpportunityNode::new)
            .collect())
    }
    async fn created_at(&self) -> DateTime<Utc> {
        self.0.created_at
    }
    async fn updated_at(&self) -> DateTime<Utc> {
        self.0.updated_at
    }
}

/// A pipeline, with its stages (and their totals) when the query that found it loaded them
/// in the same statement.
pub struct PipelineNode(pub pipeline::Model, Option<Vec<StageNode>>);

impl PipelineNode {
    pub fn new(model: pipeline::Model) -> Self {
        Self(model, None)
    }
}

impl From<pipelines::Board> for PipelineNode {
    fn from(board: pipelines::Board) -> Self {
        let stages = board
            .stages
            .into_iter()
            .map(|(stage, totals)| StageNode(stage, totals))
            .collect();
        Self(board.pipeline, Some(stages))
    }
}

/// A sales pipeline: ordered stages that opportunities move through.
#[Object(name = "Pipeline", serial)]
impl PipelineNode {
    async fn id(&self) -> ID {
        id(self.0.id)
    }
    async fn name(&self) -> &str {
        &self.0.name
    }
    /// The pipeline new opportunities go to when none is named.
    async fn is_default(&self) -> bool {
        self.0.is_default
    }
    async fn created_at(&self) -> DateTime<Utc> {
        self.0.created_at
    }
    /// Stages in board order.
    #[graphql(complexity = "platform::graphql::complexity::unbounded(child_complexity)")]
    async fn stages(&self, ctx: &Context<'_>) -> GqlResult<Vec<StageNode>> {
        if let Some(stages) = &self.1 {
            return Ok(stages.clone());
        }
        Ok(load_one::<StagesByPipeline, _>(ctx, self.0.id)
            .await?
            .unwrap_or_default()
            .into_iter()
            .map(StageNode::new)
            .collect())
    }
}

/// A stage, with its column's totals when they were loaded with it.
#[derive(Clone)]
pub struct StageNode(pub pipeline_stage::Model, Option<StageTotals>);

impl StageNode {
    pub fn new(model: pipeline_stage::Model) -> Self {
        Self(model, None)
    }
}

#[Object(name = "Stage", serial)]
impl StageNode {
    async fn id(&self) -> ID {
        id(self.0.id)
    }
    async fn name(&self) -> &str {
        &self.0.name
    }
    async fn position(&self) -> i32 {
        self.0.position
    }
    /// Win probability, 0-100.
    async fn probability(&self) -> i32 {
        i32::from(self.0.probability)
    }
    async fn kind(&self) -> GqlResult<StageKind> {
        Ok(StageKind::from_stored(&self.0.kind)?)
    }
    async fn pipeline(&self, ctx: &Context<'_>) -> GqlResult<Option<PipelineNode>> {
        Ok(load_one::<PipelineById, _>(ctx, self.0.pipeline_id)
            .await?
            .map(PipelineNode::new))
    }
    /// The stage's column on the board: its first opportunities in board order (open ones
    /// in open stages, won in won stages, lost in lost stages) and its totals.
    #[graphql(complexity = "platform::graphql::complexity::list(first, child_complexity)")]
    async fn opportunities(&self, #[graphql(default = 20)] first: i32) -> GqlResult<StageColumn> {
        Ok(StageColumn {
            stage_id: self.0.id,
            kind: StageKind::from_stored(&self.0.kind)?,
            probability: self.0.probability,
            first: edge_limit(first)?,
            totals: self.1.clone(),
        })
    }
}

/// One stage's column of the board.
pub struct StageColumn {
    stage_id: uuid::Uuid,
    kind: StageKind,
    probability: i16,
    first: u64,
    /// Loaded with the stage, or else by `StageTotalsLoader`.
    totals: Option<StageTotals>,
}

impl StageColumn {
    async fn totals(&self, ctx: &Context<'_>) -> GqlResult<StageTotals> {
        if let Some(totals) = &self.totals {
            return Ok(totals.clone());
        }
        Ok(load_one::<StageTotalsLoader, _>(ctx, self.stage_id)
            .await?
            .unwrap_or_default())
    }
}

#[Object]
impl StageColumn {
    async fn nodes(&self, ctx: &Context<'_>) -> GqlResult<Vec<OpportunityNode>> {
        // The cards' edges come with them, with the columns their selection reads; the
        // latest activity only when asked for (it costs a lookup per card).
        let cards = ctx.look_ahead();
        let latest_activity = cards.field("latestActivity");
        let columns = CardColumns {
            contact: columns_read::<contact::Model>(
                &cards.field("contact"),
                &[],
                ContactNode::READS,
            ),
            company: columns_read::<company::Model>(
                &cards.field("company"),
                &[],
                CompanyNode::READS,
            ),
            owner: columns_read::<user::Model>(
                &cards.field("owner"),
                UserNode::ALWAYS_READS,
                UserNode::READS,
            ),
            latest_activity: latest_activity.exists().then(|| {
                columns_read::<activity::Model>(&latest_activity, &[], ActivityNode::READS)
            }),
        };
        let rows = load_one::<FirstOpportunitiesPerStage, _>(
            ctx,
            (self.stage_id, self.kind, self.first, columns),
        )
        .await?;
        Ok(rows
            .unwrap_or_default()
            .into_iter()
            .map(|(o, edges)| OpportunityNode(o, Some(self.probability), Some(edges)))
            .collect())
    }
    /// How many opportunities the column holds in all.
    async fn total_count(&self, ctx: &Context<'_>) -> GqlResult<i64> {
        Ok(self.totals(ctx).await?.count)
    }
    /// The column's value, per currency.
    async fn total_value(&self, ctx: &Context<'_>) -> GqlResult<Vec<Money>> {
        let totals = self.totals(ctx).await?;
        Ok(totals
            .by_currency
            .iter()
            .map(|(c, a)| money(*a, c))
            .collect::<AppResult<_>>()?)
    }
    /// The column's value x the stage's probability, per currency.
    async fn weighted_value(&self, ctx: &Context<'_>) -> GqlResult<Vec<Money>> {
        let totals = self.totals(ctx).await?;
        Ok(totals
            .by_currency
            .iter()
            .map(|(c, a)| money(opportunities::weighted(*a, self.probability), c))
            .collect::<AppResult<_>>()?)
    }
}

/// An opportunity, with what is already known of it: its stage's probability on the board,
/// and its edges when a subscription loaded them once for all its subscribers.
pub struct OpportunityNode(
    pub opportunity::Model,
    pub Option<i16>,
    pub Option<Arc<crate::service::opportunities::Edges>>,
);

impl OpportunityNode {
    /// An opportunity whose stage's probability is not at hand.
    pub fn new(model: opportunity::Model) -> Self {
        Self(model, None, None)
    }
}

/// A deal in a pipeline.
#[Object(name = "Opportunity", serial)]
impl OpportunityNode {
    async fn id(&self) -> ID {
        id(self.0.id)
    }
    async fn title(&self) -> &str {
        &self.0.title
    }
    async fn value(&self) -> GqlResult<Money> {
        Ok(money(self.0.value_amount, &self.0.currency)?)
    }
    /// value x the stage's win probability.
    async fn weighted_value(&self, ctx: &Context<'_>) -> GqlResult<Money> {
        // On the board the stage is known; elsewhere it is loaded.
        let known = self.1.or_else(|| {
            self.2
                .as_ref()
                .and_then(|e| e.stage.as_ref())
                .map(|s| s.probability)
        });
        let probability = match known {
            Some(probability) => probability,
            None => load_one::<StageById, _>(ctx, self.0.stage_id)
                .await?
                .map(|s| s.probability)
                .unwrap_or(0),
        };
        Ok(money(
            opportunities::weighted(self.0.value_amount, probability),
            &self.0.currency,
        )?)
    }
    async fn status(&self) -> GqlResult<OpportunityStatus> {
        Ok(OpportunityStatus::from_stored(&self.0.status)?)
    }
    async fn lost_reason(&self) -> Option<&str> {
        self.0.lost_reason.as_deref()
    }
    async fn expected_close_date(&self) -> Option<NaiveDate> {
        self.0.expected_close_date
    }
    /// Order within its stage, from 0.
    async fn position(&self) -> i64 {
        self.0.position
    }
    async fn stage_entered_at(&self) -> DateTime<Utc> {
        self.0.stage_entered_at
    }
    async fn closed_at(&self) -> Option<DateTime<Utc>> {
        self.0.closed_at
    }
    async fn created_at(&self) -> DateTime<Utc> {
        self.0.created_at
    }
    async fn updated_at(&self) -> DateTime<Utc> {
        self.0.updated_at
    }
    async fn contact(&self, ctx: &Context<'_>) -> GqlResult<Option<ContactNode>> {
        if let Some(edges) = &self.2 {
            return Ok(edges.contact.clone().map(ContactNode));
        }
        let Some(contact_id) = self.0.contact_id else {
            return Ok(None);
        };
        Ok(load_one::<ContactById, _>(ctx, contact_id)
            .await?
            .map(ContactNode))
    }
    async fn company(&self, ctx: &Context<'_>) -> GqlResult<Option<CompanyNode>> {
        if let Some(edges) = &self.2 {
            return Ok(edges.company.clone().map(CompanyNode));
        }
        let Some(company_id) = self.0.company_id else {
            return Ok(None);
        };
        Ok(load_one::<CompanyById, _>(ctx, company_id)
            .await?
            .map(CompanyNode))
    }
    async fn owner(&self, ctx: &Context<'_>) -> GqlResult<Option<UserNode>> {
        if let Some(edges) = &self.2 {
            return Ok(edges.owner.clone().map(UserNode::try_from).transpose()?);
        }
        user(ctx, self.0.owner_id).await
    }
    async fn pipeline(&self, ctx: &Context<'_>) -> GqlResult<Option<PipelineNode>> {
        Ok(load_one::<PipelineById, _>(ctx, self.0.pipeline_id)
            .await?
            .map(PipelineNode::new))
    }
    async fn stage(&self, ctx: &Context<'_>) -> GqlResult<Option<StageNode>> {
        if let Some(edges) = &self.2 {
            return Ok(edges.stage.clone().map(StageNode::new));
        }
        Ok(load_one::<StageById, _>(ctx, self.0.stage_id)
            .await?
            .map(StageNode::new))
    }
    async fn latest_activity(&self, ctx: &Context<'_>) -> GqlResult<Option<ActivityNode>> {
        if let Some(Some(known)) = self.2.as_ref().map(|e| &e.latest_activity) {
            return Ok(known.clone().map(ActivityNode));
        }
        Ok(load_one::<LatestActivity, _>(ctx, self.0.id)
            .await?
            .map(ActivityNode))
    }
    /// Every stage change, oldest first (the first is the stage it was created in).
    #[graphql(complexity = "platform::graphql::complexity::unbounded(child_complexity)")]
    async fn stage_history(&self, ctx: &Context<'_>) -> GqlResult<Vec<StageChangeNode>> {
        Ok(load_one::<StageHistory, _>(ctx, self.0.id)
            .await?
            .unwrap_or_default()
            .into_iter()
            .map(StageChangeNode)
            .collect())
    }
}

pub struct StageChangeNode(pub stage_change::Model);

/// A move of an opportunity between stages.
#[Object(name = "StageChange")]
impl StageChangeNode {
    /// `null` for the stage an opportunity was created in.
    async fn from_stage_id(&self) -> Option<ID> {
        self.0.from_stage_id.map(id)
    }
    async fn to_stage_id(&self) -> ID {
        id(self.0.to_stage_id)
    }
    /// `null` when created, or when the stage was deleted since.
    async fn from_stage(&self, ctx: &Context<'_>) -> GqlResult<Option<StageNode>> {
        let Some(stage_id) = self.0.from_stage_id else {
            return Ok(None);
        };
        Ok(load_one::<StageById, _>(ctx, stage_id)
            .await?
            .map(StageNode::new))
    }
    async fn to_stage(&self, ctx: &Context<'_>) -> GqlResult<Option<StageNode>> {
        Ok(load_one::<StageById, _>(ctx, self.0.to_stage_id)
            .await?
            .map(StageNode::new))
    }
    async fn changed_by(&self, ctx: &Context<'_>) -> GqlResult<Option<UserNode>> {
        user(ctx, self.0.changed_by).await
    }
    async fn changed_at(&self) -> DateTime<Utc> {
        self.0.changed_at
    }
}

pub struct ActivityNode(pub activity::Model);

impl ActivityNode {
    /// The columns each field reads (see `columns_read`).
    pub const READS: &[(&str, &[&str])] = &[
        ("id", &[]),
        ("kind", &["kind"]),
        ("subject", &["subject"]),
        ("body", &["body"]),
        ("dueAt", &["due_at"]),
        ("completedAt", &["completed_at"]),
        ("overdue", &["kind", "completed_at", "due_at"]),
        ("contact", &["contact_id"]),
        ("opportunity", &["opportunity_id"]),
        ("author", &["author_id"]),
        ("createdAt", &["created_at"]),
    ];
}

/// A call, email, meeting, WhatsApp message, note or task.
#[Object(name = "Activity", serial)]
impl ActivityNode {
    async fn id(&self) -> ID {
        id(self.0.id)
    }
    async fn kind(&self) -> GqlResult<ActivityKind> {
        Ok(ActivityKind::from_stored(&self.0.kind)?)
    }
    async fn subject(&self) -> &str {
        &self.0.subject
    }
    async fn body(&self) -> Option<&str> {
        self.0.body.as_deref()
    }
    async fn due_at(&self) -> Option<DateTime<Utc>> {
        self.0.due_at
    }
    async fn completed_at(&self) -> Option<DateTime<Utc>> {
        self.0.completed_at
    }
    /// An open task past its due time.
    async fn overdue(&self) -> bool {
        self.0.kind == ActivityKind::Task.as_str()
            && self.0.completed_at.is_none()
            && self.0.due_at.is_some_and(|due| due < Utc::now())
    }
    async fn contact(&self, ctx: &Context<'_>) -> GqlResult<Option<ContactNode>> {
        let Some(contact_id) = self.0.contact_id else {
            return Ok(None);
        };
        Ok(load_one::<ContactById, _>(ctx, contact_id)
            .await?
            .map(ContactNode))
    }
    async fn opportunity(&self, ctx: &Context<'_>) -> GqlResult<Option<OpportunityNode>> {
        let Some(opportunity_id) = self.0.opportunity_id else {
            return Ok(None);
        };
        Ok(load_one::<OpportunityById, _>(ctx, opportunity_id)
            .await?
            .map(OpportunityNode::new))
    }
    async fn author(&self, ctx: &Context<'_>) -> GqlResult<Option<UserNode>> {
        user(ctx, self.0.author_id).await
    }
    async fn created_at(&self) -> DateTime<Utc> {
        self.0.created_at
    }
}

/// One field's value before and after a change. Values are as stored: amounts in minor
/// units (`valueAmount`), enumerations in lowercase, ids and timestamps as strings.
#[derive(SimpleObject)]
pub struct FieldChange {
    pub field: String,
    pub before: Json<serde_json::Value>,
    pub after: Json<serde_json::Value>,
}

#[derive(SimpleObject)]
#[graphql(complex, name = "AuditEntry")]
pub struct AuditEntryNode {
    pub id: ID,
    pub entity_type: AuditEntityType,
    pub entity_id: ID,
    pub action: AuditAction,
    pub at: DateTime<Utc>,
    /// The changed fields (all of them for a create or a delete).
    pub changes: Vec<FieldChange>,
    /// For a revert: the entry it undid.
    pub revert_of: Option<ID>,
    #[graphql(skip)]
    pub actor_id: Option<uuid::Uuid>,
}

#[ComplexObject]
impl AuditEntryNode {
    /// Who made the change.
    async fn actor(&self, ctx: &Context<'_>) -> GqlResult<Option<UserNode>> {
        user(ctx, self.actor_id).await
    }
}

impl TryFrom<audit_entry::Model> for AuditEntryNode {
    type Error = AppError;

    fn try_from(model: audit_entry::Model) -> AppResult<Self> {
        let changes = model
            .changes
            .as_object()
            .map(|fields| {
                fields
                    .iter()
                    .map(|(field, change)| FieldChange {
                        field: crate::service::audit::camel_case(field),
                        before: Json(change["before"].clone()),
                        after: Json(change["after"].clone()),
                    })
                    .collect()
            })
            .unwrap_or_default();
        Ok(Self {
            id: id(model.id),
            entity_type: AuditEntityType::from_stored(&model.entity_type)?,
            entity_id: id(model.entity_id),
            action: AuditAction::from_stored(&model.action)?,
            at: model.at,
            changes,
            revert_of: model.revert_of.map(id),
            actor_id: model.actor_id,
        })
    }
}

/// A stage's figures: what it holds and what that is worth.
#[derive(SimpleObject)]
pub struct StageFigures {
    pub stage: StageNode,
    pub count: i64,
    /// Per currency.
    pub total_value: Vec<Money>,
    /// Per currency: value x the stage's probability.
    pub weighted_value: Vec<Money>,
}

impl TryFrom<figures::StageFigures> for StageFigures {
    type Error = AppError;

    fn try_from(figures: figures::StageFigures) -> AppResult<Self> {
        let total_value = figures
            .values
            .iter()
            .map(|(c, a, _)| money(*a, c))
            .collect::<AppResult<_>>()?;
        let weighted_value = figures
            .values
            .iter()
            .map(|(c, _, w)| money(*w, c))
            .collect::<AppResult<_>>()?;
        Ok(Self {
            stage: StageNode::new(figures.stage),
            count: figures.count,
            total_value,
            weighted_value,
        })
    }
}

/// Win and lead conversion over a date range.
#[derive(SimpleObject)]
pub struct Conversion {
    /// Opportunities won in the range.
    pub won: i64,
    /// Opportunities lost in the range.
    pub lost: i64,
    /// won / (won + lost); null when none closed.
    pub win_rate: Option<f64>,
    /// Contacts created in the range.
    pub leads: i64,
    /// Of those, how many are customers now.
    pub converted_leads: i64,
    /// convertedLeads / leads; null without leads.
    pub lead_conversion_rate: Option<f64>,
}

impl From<figures::Conversion> for Conversion {
    fn from(c: figures::Conversion) -> Self {
        Self {
            won: c.won as i64,
            lost: c.lost as i64,
            win_rate: c.win_rate,
            leads: c.leads as i64,
            converted_leads: c.converted_leads as i64,
            lead_conversion_rate: c.lead_conversion_rate,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn names_its_columns<M: Positioned>(reads: &[(&str, &[&str])]) {
        for (field, columns) in reads {
            for column in *columns {
                assert!(
                    M::COLUMNS.contains(column),
                    "{field} reads unknown {column}"
                );
            }
        }
    }

    /// A misspelt column would not break an answer (it reads every column), only slow it.
    #[test]
    fn every_read_names_a_column() {
        names_its_columns::<contact::Model>(ContactNode::READS);
        names_its_columns::<company::Model>(CompanyNode::READS);
        names_its_columns::<user::Model>(UserNode::READS);
        names_its_columns::<user::Model>(&[("", UserNode::ALWAYS_READS)]);
        names_its_columns::<activity::Model>(ActivityNode::READS);
    }
}
