//! CRM mutations. Sales and support create and edit; managers, admins and owners also
//! delete and manage pipelines.

use async_graphql::{Context, ID, Object};
use entity::tenant::audit_entry;
use sea_orm::EntityTrait;

use super::{
    inputs::{
        CreateCompanyInput, CreateContactInput, CreateOpportunityInput, LogActivityInput,
        StageInput, UpdateCompanyInput, UpdateContactInput, UpdateOpportunityInput,
        UpdateStageInput,
    },
    objects::{
        ActivityNode, AuditEntryNode, CompanyNode, ContactNode, OpportunityNode, PipelineNode,
        StageNode,
    },
};
use crate::{
    service::{activities, audit, companies, contacts, opportunities, pipelines, required_text},
    types::{AuditAction, AuditEntityType, StageKind},
};
use platform::{
    auth::Role,
    auth::RoleGuard,
    error::{AppError, AppResult, GqlResult},
    graphql::ContextExt,
    parse_id,
};

#[derive(Default)]
pub struct CrmMutation;

#[Object]
impl CrmMutation {
    #[graphql(guard = "RoleGuard::at_least(Role::Sales)")]
    async fn create_contact(
        &self,
        ctx: &Context<'_>,
        input: CreateContactInput,
    ) -> GqlResult<ContactNode> {
        let new = input.parse()?;
        Ok(ContactNode(
            contacts::create(ctx.conn().await?, ctx.principal()?, new).await?,
        ))
    }

    #[graphql(guard = "RoleGuard::at_least(Role::Sales)")]
    async fn update_contact(
        &self,
        ctx: &Context<'_>,
        id: ID,
        input: UpdateContactInput,
    ) -> GqlResult<ContactNode> {
        let id = parse_id(&id, "id")?;
        let changes = input.parse()?;
        Ok(ContactNode(
            contacts::update(ctx.conn().await?, ctx.principal()?, id, changes, None).await?,
        ))
    }

    /// Deletes a contact with its activities; its opportunities stay, without a contact.
    #[graphql(guard = "RoleGuard::at_least(Role::Manager)")]
    async fn delete_contact(&self, ctx: &Context<'_>, id: ID) -> GqlResult<ID> {
        let uuid = parse_id(&id, "id")?;
        contacts::delete(ctx.conn().await?, ctx.principal()?, uuid).await?;
        Ok(id)
    }

    #[graphql(guard = "RoleGuard::at_least(Role::Sales)")]
    async fn create_company(
        &self,
        ctx: &Context<'_>,
        input: CreateCompanyInput,
    ) -> GqlResult<CompanyNode> {
        let new = input.parse()?;
        Ok(CompanyNode(
            companies::create(ctx.conn().await?, ctx.principal()?, new).await?,
        ))
    }

    #[graphql(guard = "RoleGuard::at_least(Role::Sales)")]
    async fn update_company(
        &self,
        ctx: &Context<'_>,
        id: ID,
        input: UpdateCompanyInput,
    ) -> GqlResult<CompanyNode> {
        let id = parse_id(&id, "id")?;
        let changes = input.parse()?;
        Ok(CompanyNode(
            companies::update(ctx.conn().await?, ctx.principal()?, id, changes, None).await?,
        ))
    }

    /// Deletes a company; its contacts and opportunities stay, without a company.
    #[graphql(guard = "RoleGuard::at_least(Role::Manager)")]
    async fn delete_company(&self, ctx: &Context<'_>, id: ID) -> GqlResult<ID> {
        let uuid = parse_id(&id, "id")?;
        companies::delete(ctx.conn().await?, ctx.principal()?, uuid).await?;
        Ok(id)
    }

    /// Creates a pipeline with its stages, in order.
    #[graphql(guard = "RoleGuard::at_least(Role::Manager)")]
    async fn create_pipeline(
        &self,
        ctx: &Context<'_>,
        name: String,
        stages: Vec<StageInput>,
    ) -> GqlResult<PipelineNode> {
        let name = pipelines::parse_name(&name, "name")?;
        pipelines::check_stage_count(stages.len(), "stages")?;
        let stages = stages
            .into_iter()
            .enumerate()
            .map(|(i, s)| s.parse(&format!("stages[{i}]")))
            .collect::<AppResult<Vec<_>>>()?;
        Ok(PipelineNode::new(
            pipelines::create(ctx.conn().await?, ctx.principal()?, name, stages).await?,
        ))
    }

    #[graphql(guard = "RoleGuard::at_least(Role::Manager)")]
    async fn rename_pipeline(
        &self,
        ctx: &Context<'_>,
        id: ID,
        name: String,
    ) -> GqlResult<PipelineNode> {
        let id = parse_id(&id, "id")?;
        let name = pipelines::parse_name(&name, "name")?;
        Ok(PipelineNode::new(
            pipelines::rename(ctx.conn().await?, ctx.principal()?, id, name, None).await?,
        ))
    }

    /// Deletes a pipeline that holds no opportunities (`CONFLICT` otherwise).
    #[graphql(guard = "RoleGuard::at_least(Role::Manager)")]
    async fn delete_pipeline(&self, ctx: &Context<'_>, id: ID) -> GqlResult<ID> {
        let uuid = parse_id(&id, "id")?;
        pipelines::delete(ctx.conn().await?, ctx.principal()?, uuid).await?;
        Ok(id)
    }

    /// Adds a stage at `position` (default: the end).
    #[graphql(guard = "RoleGuard::at_least(Role::Manager)")]
    async fn add_stage(
        &self,
        ctx: &Context<'_>,
        pipeline_id: ID,
        input: StageInput,
        position: Option<i32>,
    ) -> GqlResult<StageNode> {
        let pipeline_id = parse_id(&pipeline_id, "pipelineId")?;
        let stage = input.parse("input")?;
        Ok(StageNode::new(
            pipelines::add_stage(
                ctx.conn().await?,
                ctx.principal()?,
                pipeline_id,
                stage,
                position,
            )
            .await?,
        ))
    }

    #[graphql(guard = "RoleGuard::at_least(Role::Manager)")]
    async fn update_stage(
        &self,
        ctx: &Context<'_>,
        id: ID,
        input: UpdateStageInput,
    ) -> GqlResult<StageNode> {
        let id = parse_id(&id, "id")?;
        let changes = input.parse()?;
        Ok(StageNode::new(
            pipelines::update_stage(ctx.conn().await?, ctx.principal()?, id, changes, None).await?,
        ))
    }

    /// Orders a pipeline's stages; list each stage exactly once.
    #[graphql(guard = "RoleGuard::at_least(Role::Manager)")]
    async fn reorder_stages(
        &self,
        ctx: &Context<'_>,
        pipeline_id: ID,
        stage_ids: Vec<ID>,
    ) -> GqlResult<Vec<StageNode>> {
        let pipeline_id = parse_id(&pipeline_id, "pipelineId")?;
        pipelines::check_stage_count(stage_ids.len(), "stageIds")?;
        let order = stage_ids
            .iter()
            .map(|id| parse_id(id, "stageIds"))
            .collect::<AppResult<Vec<_>>>()?;
        Ok(
            pipelines::reorder_stages(ctx.conn().await?, ctx.principal()?, pipeline_id, order)
                .await?
                .into_iter()
                .map(StageNode::new)
                .collect(),
        )
    }

    /// Deletes a stage. A stage holding opportunities is deleted only by moving them, in
    /// this mutation, to `moveOpportunitiesTo` (a stage of the same pipeline).
    #[graphql(guard = "RoleGuard::at_least(Role::Manager)")]
    async fn delete_stage(
        &self,
        ctx: &Context<'_>,
        id: ID,
        move_opportunities_to: Option<ID>,
    ) -> GqlResult<ID> {
        let uuid = parse_id(&id, "id")?;
        let target = move_opportunities_to
            .map(|t| parse_id(&t, "moveOpportunitiesTo"))
            .transpose()?;
        pipelines::delete_stage(ctx.conn().await?, ctx.principal()?, uuid, target).await?;
        Ok(id)
    }

    #[graphql(guard = "RoleGuard::at_least(Role::Sales)")]
    async fn create_opportunity(
        &self,
        ctx: &Context<'_>,
        input: CreateOpportunityInput,
    ) -> GqlResult<OpportunityNode> {
        let new = input.parse()?;
        Ok(OpportunityNode::new(
            opportunities::create(ctx.conn().await?, ctx.principal()?, new).await?,
        ))
    }

    /// Changes an opportunity's fields (use `moveOpportunity` for its stage).
    #[graphql(guard = "RoleGuard::at_least(Role::Sales)")]
    async fn update_opportunity(
        &self,
        ctx: &Context<'_>,
        id: ID,
        input: UpdateOpportunityInput,
    ) -> GqlResult<OpportunityNode> {
        let id = parse_id(&id, "id")?;
        let changes = input.parse()?;
        Ok(OpportunityNode::new(
            opportunities::update(ctx.conn().await?, ctx.principal()?, id, changes, None).await?,
        ))
    }

    /// Moves an opportunity to a stage of its pipeline at `position` within it (default:
    /// the end). Moving into a won or lost stage closes it; back into an open one reopens it.
    #[graphql(guard = "RoleGuard::at_least(Role::Sales)")]
    async fn move_opportunity(
        &self,
        ctx: &Context<'_>,
        id: ID,
        stage_id: ID,
        position: Option<i32>,
    ) -> GqlResult<OpportunityNode> {
        let id = parse_id(&id, "id")?;
        let stage_id = parse_id(&stage_id, "stageId")?;
        let moved = opportunities::move_to(
            ctx.conn().await?,
            ctx.principal()?,
            id,
            stage_id,
            position.map(i64::from),
        )
        .await?;
        Ok(OpportunityNode::new(moved))
    }

    /// Closes an opportunity as won (into the pipeline's won stage, if it has one).
    #[graphql(guard = "RoleGuard::at_least(Role::Sales)")]
    async fn mark_won(&self, ctx: &Context<'_>, id: ID) -> GqlResult<OpportunityNode> {
        let id = parse_id(&id, "id")?;
        Ok(OpportunityNode::new(
            opportunities::close(
                ctx.conn().await?,
                ctx.principal()?,
                id,
                StageKind::Won,
                None,
            )
            .await?,
        ))
    }

    /// Closes an opportunity as lost, with the reason (into the pipeline's lost stage, if any).
    #[graphql(guard = "RoleGuard::at_least(Role::Sales)")]
    async fn mark_lost(
        &self,
        ctx: &Context<'_>,
        id: ID,
        reason: String,
    ) -> GqlResult<OpportunityNode> {
        let id = parse_id(&id, "id")?;
        let reason = required_text(&reason, "reason", 500)?;
        Ok(OpportunityNode::new(
            opportunities::close(
                ctx.conn().await?,
                ctx.principal()?,
                id,
                StageKind::Lost,
                Some(reason),
            )
            .await?,
        ))
    }

    #[graphql(guard = "RoleGuard::at_least(Role::Manager)")]
    async fn delete_opportunity(&self, ctx: &Context<'_>, id: ID) -> GqlResult<ID> {
        let uuid = parse_id(&id, "id")?;
        opportunities::delete(ctx.conn().await?, ctx.principal()?, uuid).await?;
        Ok(id)
    }

    /// Logs a call, email, meeting, WhatsApp message, note or task against a contact
    /// and/or an opportunity; the contact's `lastActivityAt` becomes now.
    #[graphql(guard = "RoleGuard::at_least(Role::Sales)")]
    async fn log_activity(
        &self,
        ctx: &Context<'_>,
        input: LogActivityInput,
    ) -> GqlResult<ActivityNode> {
        let new = input.parse()?;
        Ok(ActivityNode(
            activities::log(ctx.conn().await?, ctx.principal()?, new).await?,
        ))
    }

    #[graphql(guard = "RoleGuard::at_least(Role::Sales)")]
    async fn complete_task(&self, ctx: &Context<'_>, id: ID) -> GqlResult<ActivityNode> {
        let id = parse_id(&id, "id")?;
        Ok(ActivityNode(
            activities::complete_task(ctx.conn().await?, ctx.principal()?, id).await?,
        ))
    }

    #[graphql(guard = "RoleGuard::at_least(Role::Manager)")]
    async fn delete_activity(&self, ctx: &Context<'_>, id: ID) -> GqlResult<ID> {
        let uuid = parse_id(&id, "id")?;
        activities::delete(ctx.conn().await?, ctx.principal()?, uuid).await?;
        Ok(id)
    }

    /// Restores the values an update replaced; the revert is itself audited. Creates and
    /// deletes cannot be reverted (`BAD_USER_INPUT`).
    #[graphql(guard = "RoleGuard::at_least(Role::Sales)")]
    async fn revert(&self, ctx: &Context<'_>, audit_entry_id: ID) -> GqlResult<AuditEntryNode> {
        let entry_id = parse_id(&audit_entry_id, "auditEntryId")?;
        let conn = ctx.conn().await?;
        let principal = ctx.principal()?;
        let entry = audit_entry::Entity::find_by_id(entry_id)
            .one(conn)
            .await
            .map_err(AppError::from)?
            .ok_or(AppError::NotFound("audit entry"))?;
        let action = AuditAction::from_stored(&entry.action)?;
        if !matches!(action, AuditAction::Update | AuditAction::Revert) {
            return Err(AppError::bad_input("auditEntryId", "only updates can be reverted").into());
        }
        let entity_type = AuditEntityType::from_stored(&entry.entity_type)?;
        if matches!(
            entity_type,
            AuditEntityType::Pipeline | AuditEntityType::Stage
        ) && !principal.role.at_least(Role::Manager)
        {
            return Err(
                AppError::Forbidden("pipelines are managed by managers and above".into()).into(),
            );
        }
        let values = audit::values_before(&entry);
        let id = entry.entity_id;
        match entity_type {
            AuditEntityType::Contact => {
                contacts::update(
                    conn,
                    principal,
                    id,
                    contacts::changes_from_snapshot(&values)?,
                    Some(entry_id),
                )
                .await?;
            }
            AuditEntityType::Company => {
                companies::update(
                    conn,
                    principal,
                    id,
                    companies::changes_from_snapshot(&values)?,
                    Some(entry_id),
                )
                .await?;
            }
            AuditEntityType::Opportunity => {
                opportunities::revert(conn, principal, id, &values, entry_id).await?;
            }
            AuditEntityType::Activity => {
                activities::revert(conn, principal, id, &values, entry_id).await?;
            }
            AuditEntityType::Pipeline => {
                if let Some(name) = values.get("name").and_then(|n| n.as_str()) {
                    pipelines::rename(conn, principal, id, name.to_owned(), Some(entry_id)).await?;
                }
            }
            AuditEntityType::Stage => {
                let changes = pipelines::stage_changes_from_snapshot(&values)?;
                pipelines::update_stage(conn, principal, id, changes, Some(entry_id)).await?;
            }
        }
        let latest = audit::latest_for(conn, id)
            .await?
            .ok_or(AppError::NotFound("audit entry"))?;
        Ok(AuditEntryNode::try_from(latest)?)
    }
}
