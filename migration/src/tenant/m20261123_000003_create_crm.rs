use sea_orm_migration::{prelude::*, schema::*};

use super::{fk, index};

/// Companies, contacts (with tags), opportunities with their stage history, activities and
/// the CRM audit trail, with an index for every filter and order the API offers.
#[derive(DeriveMigrationName)]
pub struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table(Companies::Table)
                    .if_not_exists()
                    .col(pk_uuid(Companies::Id))
                    .col(string(Companies::Name))
                    .col(string(Companies::NameKey))
                    .col(string_null(Companies::Domain))
                    .col(string_null(Companies::Industry))
                    .col(string_len_null(Companies::Size, 16))
                    .col(json_null(Companies::Address))
                    .col(uuid_null(Companies::OwnerId))
                    .col(timestamp_with_time_zone(Companies::CreatedAt))
                    .col(timestamp_with_time_zone(Companies::UpdatedAt))
                    .foreign_key(&mut fk(
                        "companies_owner_fk",
                        Companies::Table,
                        Companies::OwnerId,
                        Users::Table,
                        Users::Id,
                        ForeignKeyAction::SetNull,
                    ))
                    .to_owned(),
            )
            .await?;
        index(
            manager,
            "companies_name_idx",
            Companies::Table,
            &[Companies::NameKey, Companies::Id],
        )
        .await?;
        index(
            manager,
            "companies_owner_idx",
            Companies::Table,
            &[Companies::OwnerId],
        )
        .await?;

        manager
            .create_table(
                Table::create()
                    .table(Contacts::Table)
                    .if_not_exists()
                    .col(pk_uuid(Contacts::Id))
                    .col(string(Contacts::FirstName))
                    .col(string_null(Contacts::LastName))
                    .col(string_null(Contacts::Email))
                    .col(string_len_null(Contacts::Phone, 20))
                    .col(uuid_null(Contacts::CompanyId))
                    .col(uuid_null(Contacts::OwnerId))
                    .col(string_len(Contacts::Source, 16))
                    .col(string_len(Contacts::Status, 16))
                    .col(json(Contacts::CustomFields))
                    .col(string(Contacts::NameKey))
                    .col(string(Contacts::SearchText))
                    .col(timestamp_with_time_zone_null(Contacts::LastActivityAt))
                    .col(timestamp_with_time_zone(Contacts::CreatedAt))
                    .col(timestamp_with_time_zone(Contacts::UpdatedAt))
                    .foreign_key(&mut fk(
                        "contacts_company_fk",
                        Contacts::Table,
                        Contacts::CompanyId,
                        Companies::Table,
                        Companies::Id,
                        ForeignKeyAction::SetNull,
                    ))
                    .foreign_key(&mut fk(
                        "contacts_owner_fk",
                        Contacts::Table,
                        Contacts::OwnerId,
                        Users::Table,
                        Users::Id,
                        ForeignKeyAction::SetNull,
                    ))
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("contacts_email_key")
                    .table(Contacts::Table)
                    .col(Contacts::Email)
                    .unique()
                    .if_not_exists()
                    .to_owned(),
            )
            .await?;
        index(
            manager,
            "contacts_status_idx",
            Contacts::Table,
            &[Contacts::Status, Contacts::Id],
        )
        .await?;
        index(
            manager,
            "contacts_owner_idx",
            Contacts::Table,
            &[Contacts::OwnerId, Contacts::Id],
        )
        .await?;
        index(
            manager,
            "contacts_source_idx",
            Contacts::Table,
            &[Contacts::Source, Contacts::Id],
        )
        .await?;
        index(
            manager,
            "contacts_company_idx",
            Contacts::Table,
            &[Contacts::CompanyId],
        )
        .await?;
        index(
            manager,
            "contacts_created_idx",
            Contacts::Table,
            &[Contacts::CreatedAt, Contacts::Id],
        )
        .await?;
        index(
            manager,
            "contacts_updated_idx",
            Contacts::Table,
            &[Contacts::UpdatedAt, Contacts::Id],
        )
        .await?;
        index(
            manager,
            "contacts_name_idx",
            Contacts::Table,
            &[Contacts::NameKey, Contacts::Id],
        )
        .await?;
        index(
            manager,
            "contacts_last_activity_idx",
            Contacts::Table,
            &[Contacts::LastActivityAt, Contacts::Id],
        )
        .await?;
        if manager.get_database_backend() == sea_orm_migration::sea_orm::DbBackend::Postgres {
            // Substring search over name, email and phone: a trigram index serves `LIKE '%..%'`.
            // The extension lives in `public`, created by the control-plane migrations.
            let db = manager.get_connection();
            db.execute_unprepared(
                "CREATE INDEX IF NOT EXISTS contacts_search_trgm_idx ON contacts \
                 USING gin (search_text public.gin_trgm_ops)",
            )
            .await?;
        }

        manager
            .create_table(
                Table::create()
                    .table(ContactTags::Table)
                    .if_not_exists()
                    .col(uuid(ContactTags::ContactId))
                    .col(string_len(ContactTags::Tag, 64))
                    .primary_key(
                        Index::create()
                            .col(ContactTags::ContactId)
                            .col(ContactTags::Tag),
                    )
                    .foreign_key(&mut fk(
                        "contact_tags_contact_fk",
                        ContactTags::Table,
                        ContactTags::ContactId,
                        Contacts::Table,
                        Contacts::Id,
                        ForeignKeyAction::Cascade,
                    ))
                    .to_owned(),
            )
            .await?;
        index(
            manager,
            "contact_tags_tag_idx",
            ContactTags::Table,
            &[ContactTags::Tag, ContactTags::ContactId],
        )
        .await?;

        manager
            .create_table(
                Table::create()
                    .table(Opportunities::Table)
                    .if_not_exists()
                    .col(pk_uuid(Opportunities::Id))
                    .col(string(Opportunities::Title))
                    .col(uuid_null(Opportunities::ContactId))
                    .col(uuid_null(Opportunities::CompanyId))
                    .col(uuid_null(Opportunities::OwnerId))
                    .col(uuid(Opportunities::PipelineId))
                    .col(uuid(Opportunities::StageId))
                    .col(big_integer(Opportunities::ValueAmount))
                    .col(string_len(Opportunities::Currency, 3))
                    .col(date_null(Opportunities::ExpectedCloseDate))
                    .col(string_len(Opportunities::Status, 8))
                    .col(string_null(Opportunities::LostReason))
                    .col(timestamp_with_time_zone(Opportunities::StageEnteredAt))
                    .col(big_integer(Opportunities::Position))
                    .col(timestamp_with_time_zone_null(Opportunities::ClosedAt))
                    .col(timestamp_with_time_zone(Opportunities::CreatedAt))
                    .col(timestamp_with_time_zone(Opportunities::UpdatedAt))
                    .foreign_key(&mut fk(
                        "opportunities_contact_fk",
                        Opportunities::Table,
                        Opportunities::ContactId,
                        Contacts::Table,
                        Contacts::Id,
                        ForeignKeyAction::SetNull,
                    ))
                    .foreign_key(&mut fk(
                        "opportunities_company_fk",
                        Opportunities::Table,
                        Opportunities::CompanyId,
                        Companies::Table,
                        Companies::Id,
                        ForeignKeyAction::SetNull,
                    ))
                    .foreign_key(&mut fk(
                        "opportunities_owner_fk",
                        Opportunities::Table,
                        Opportunities::OwnerId,
                        Users::Table,
                        Users::Id,
                        ForeignKeyAction::SetNull,
                    ))
                    .foreign_key(&mut fk(
                        "opportunities_pipeline_fk",
                        Opportunities::Table,
                        Opportunities::PipelineId,
                        Pipelines::Table,
                        Pipelines::Id,
                        ForeignKeyAction::Restrict,
                    ))
                    .foreign_key(&mut fk(
                        "opportunities_stage_fk",
                        Opportunities::Table,
                        Opportunities::StageId,
                        PipelineStages::Table,
                        PipelineStages::Id,
                        ForeignKeyAction::Restrict,
                    ))
                    .check(Expr::col(Opportunities::ValueAmount).gte(0))
                    .to_owned(),
            )
            .await?;
        index(
            manager,
            "opportunities_board_idx",
            Opportunities::Table,
            &[
                Opportunities::StageId,
                Opportunities::Status,
                Opportunities::Position,
                Opportunities::Id,
            ],
        )
        .await?;
        index(
            manager,
            "opportunities_pipeline_idx",
            Opportunities::Table,
            &[Opportunities::PipelineId, Opportunities::Status],
        )
        .await?;
        index(
            manager,
            "opportunities_contact_idx",
            Opportunities::Table,
            &[Opportunities::ContactId],
        )
        .await?;
        index(
            manager,
            "opportunities_company_idx",
            Opportunities::Table,
            &[Opportunities::CompanyId],
        )
        .await?;
        index(
            manager,
            "opportunities_owner_idx",
            Opportunities::Table,
            &[Opportunities::OwnerId, Opportunities::Id],
        )
        .await?;
        index(
            manager,
            "opportunities_closed_idx",
            Opportunities::Table,
            &[Opportunities::Status, Opportunities::ClosedAt],
        )
        .await?;

        manager
            .create_table(
                Table::create()
                    .table(StageChanges::Table)
                    .if_not_exists()
                    .col(pk_uuid(StageChanges::Id))
                    .col(uuid(StageChanges::OpportunityId))
                    .col(uuid_null(StageChanges::FromStageId))
                    .col(uuid(StageChanges::ToStageId))
                    .col(uuid_null(StageChanges::ChangedBy))
                    .col(timestamp_with_time_zone(StageChanges::ChangedAt))
                    .foreign_key(&mut fk(
                        "stage_changes_opportunity_fk",
                        StageChanges::Table,
                        StageChanges::OpportunityId,
                        Opportunities::Table,
                        Opportunities::Id,
                        ForeignKeyAction::Cascade,
                    ))
                    .to_owned(),
            )
            .await?;
        index(
            manager,
            "stage_changes_opportunity_idx",
            StageChanges::Table,
            &[StageChanges::OpportunityId, StageChanges::Id],
        )
        .await?;

        manager
            .create_table(
                Table::create()
                    .table(Activities::Table)
                    .if_not_exists()
                    .col(pk_uuid(Activities::Id))
                    .col(string_len(Activities::Kind, 16))
                    .col(string(Activities::Subject))
                    .col(text_null(Activities::Body))
                    .col(timestamp_with_time_zone_null(Activities::DueAt))
                    .col(timestamp_with_time_zone_null(Activities::CompletedAt))
                    .col(uuid_null(Activities::ContactId))
                    .col(uuid_null(Activities::OpportunityId))
                    .col(uuid_null(Activities::AuthorId))
                    .col(timestamp_with_time_zone(Activities::CreatedAt))
                    .col(timestamp_with_time_zone(Activities::UpdatedAt))
                    .foreign_key(&mut fk(
                        "activities_contact_fk",
                        Activities::Table,
                        Activities::ContactId,
                        Contacts::Table,
                        Contacts::Id,
                        ForeignKeyAction::Cascade,
                    ))
                    .foreign_key(&mut fk(
                        "activities_opportunity_fk",
                        Activities::Table,
                        Activities::OpportunityId,
                        Opportunities::Table,
                        Opportunities::Id,
                        ForeignKeyAction::Cascade,
                    ))
                    .foreign_key(&mut fk(
                        "activities_author_fk",
                        Activities::Table,
                        Activities::AuthorId,
                        Users::Table,
                        Users::Id,
                        ForeignKeyAction::SetNull,
                    ))
                    .to_owned(),
            )
            .await?;
        index(
            manager,
            "activities_opportunity_idx",
            Activities::Table,
            &[Activities::OpportunityId, Activities::Id],
        )
        .await?;
        index(
            manager,
            "activities_contact_idx",
            Activities::Table,
            &[Activities::ContactId, Activities::Id],
        )
        .await?;
        index(
            manager,
            "activities_kind_idx",
            Activities::Table,
            &[Activities::Kind, Activities::Id],
        )
        .await?;
        index(
            manager,
            "activities_due_idx",
            Activities::Table,
            &[Activities::DueAt, Activities::Id],
        )
        .await?;

        manager
            .create_table(
                Table::create()
                    .table(AuditEntries::Table)
                    .if_not_exists()
                    .col(pk_uuid(AuditEntries::Id))
                    .col(uuid_null(AuditEntries::ActorId))
                    .col(string_len(AuditEntries::EntityType, 32))
                    .col(uuid(AuditEntries::EntityId))
                    .col(string_len(AuditEntries::Action, 16))
                    .col(json(AuditEntries::Changes))
                    .col(uuid_null(AuditEntries::RevertOf))
                    .col(timestamp_with_time_zone(AuditEntries::At))
                    .to_owned(),
            )
            .await?;
        index(
            manager,
            "audit_entries_entity_idx",
            AuditEntries::Table,
            &[AuditEntries::EntityId, AuditEntries::Id],
        )
        .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        for table in [
            AuditEntries::Table.into_iden(),
            Activities::Table.into_iden(),
            StageChanges::Table.into_iden(),
            Opportunities::Table.into_iden(),
            ContactTags::Table.into_iden(),
            Contacts::Table.into_iden(),
            Companies::Table.into_iden(),
        ] {
            manager
                .drop_table(Table::drop().table(table).if_exists().to_owned())
                .await?;
        }
        Ok(())
    }
}

#[derive(DeriveIden, Clone, Copy)]
enum Users {
    Table,
    Id,
}

#[derive(DeriveIden, Clone, Copy)]
enum Pipelines {
    Table,
    Id,
}

#[derive(DeriveIden, Clone, Copy)]
enum PipelineStages {
    Table,
    Id,
}

#[derive(DeriveIden, Clone, Copy)]
enum Companies {
    Table,
    Id,
    Name,
    NameKey,
    Domain,
    Industry,
    Size,
    Address,
    OwnerId,
    CreatedAt,
    UpdatedAt,
}

#[derive(DeriveIden, Clone, Copy)]
enum Contacts {
    Table,
    Id,
    FirstName,
    LastName,
    Email,
    Phone,
    CompanyId,
    OwnerId,
    Source,
    Status,
    CustomFields,
    NameKey,
    SearchText,
    LastActivityAt,
    CreatedAt,
    UpdatedAt,
}

#[derive(DeriveIden, Clone, Copy)]
enum ContactTags {
    Table,
    ContactId,
    Tag,
}

#[derive(DeriveIden, Clone, Copy)]
enum Opportunities {
    Table,
    Id,
    Title,
    ContactId,
    CompanyId,
    OwnerId,
    PipelineId,
    StageId,
    ValueAmount,
    Currency,
    ExpectedCloseDate,
    Status,
    LostReason,
    StageEnteredAt,
    Position,
    ClosedAt,
    CreatedAt,
    UpdatedAt,
}

#[derive(DeriveIden, Clone, Copy)]
enum StageChanges {
    Table,
    Id,
    OpportunityId,
    FromStageId,
    ToStageId,
    ChangedBy,
    ChangedAt,
}

#[derive(DeriveIden, Clone, Copy)]
enum Activities {
    Table,
    Id,
    Kind,
    Subject,
    Body,
    DueAt,
    CompletedAt,
    ContactId,
    OpportunityId,
    AuthorId,
    CreatedAt,
    UpdatedAt,
}

#[derive(DeriveIden, Clone, Copy)]
enum AuditEntries {
    Table,
    Id,
    ActorId,
    EntityType,
    EntityId,
    Action,
    Changes,
    RevertOf,
    At,
}
