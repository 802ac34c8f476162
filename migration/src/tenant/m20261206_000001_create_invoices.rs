use sea_orm_migration::{prelude::*, schema::*, sea_orm::DbBackend};

use super::{fk, index};

/// Invoices, credit notes, payments and their allocation to invoices; a sales document's
/// lines gain their invoice or credit note.
#[derive(DeriveMigrationName)]
pub struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table(Invoices::Table)
                    .if_not_exists()
                    .col(pk_uuid(Invoices::Id))
                    .col(uuid_null(Invoices::SeriesId))
                    .col(big_integer_null(Invoices::Sequence))
                    .col(string_len_null(Invoices::Number, 40))
                    .col(string_len(Invoices::Status, 16))
                    .col(uuid_null(Invoices::QuoteId))
                    .col(uuid_null(Invoices::ContactId))
                    .col(uuid_null(Invoices::CompanyId))
                    .col(string_len(Invoices::Currency, 3))
                    .col(boolean(Invoices::PricesIncludeTax))
                    .col(string_len(Invoices::Rounding, 24))
                    .col(string_len(Invoices::TaxRounding, 16))
                    .col(json_null(Invoices::Discount))
                    .col(text_null(Invoices::Notes))
                    .col(text_null(Invoices::Terms))
                    .col(integer(Invoices::PaymentTermsDays))
                    .col(date_null(Invoices::IssueDate))
                    .col(date_null(Invoices::DueDate))
                    .col(big_integer(Invoices::SubtotalMinor))
                    .col(big_integer(Invoices::DiscountMinor))
                    .col(big_integer(Invoices::TaxExclusiveMinor))
                    .col(big_integer(Invoices::TaxMinor))
                    .col(big_integer(Invoices::TotalMinor))
                    .col(json(Invoices::TaxGroups))
                    .col(big_integer(Invoices::CreditedMinor))
                    .col(big_integer(Invoices::PaidMinor))
                    .col(json_null(Invoices::Buyer))
                    .col(timestamp_with_time_zone_null(Invoices::IssuedAt))
                    .col(uuid_null(Invoices::OwnerId))
                    .col(timestamp_with_time_zone(Invoices::CreatedAt))
                    .col(timestamp_with_time_zone(Invoices::UpdatedAt))
                    .foreign_key(&mut fk(
                        "invoices_series_fk",
                        Invoices::Table,
                        Invoices::SeriesId,
                        DocumentSeries::Table,
                        DocumentSeries::Id,
                        ForeignKeyAction::Restrict,
                    ))
                    .foreign_key(&mut fk(
                        "invoices_quote_fk",
                        Invoices::Table,
                        Invoices::QuoteId,
                        Quotes::Table,
                        Quotes::Id,
                        ForeignKeyAction::SetNull,
                    ))
                    .foreign_key(&mut fk(
                        "invoices_contact_fk",
                        Invoices::Table,
                        Invoices::ContactId,
                        Contacts::Table,
                        Contacts::Id,
                        ForeignKeyAction::SetNull,
                    ))
                    .foreign_key(&mut fk(
                        "invoices_company_fk",
                        Invoices::Table,
                        Invoices::CompanyId,
                        Companies::Table,
                        Companies::Id,
                        ForeignKeyAction::SetNull,
                    ))
                    .foreign_key(&mut fk(
                        "invoices_owner_fk",
                        Invoices::Table,
                        Invoices::OwnerId,
                        Users::Table,
                        Users::Id,
                        ForeignKeyAction::SetNull,
                    ))
                    .to_owned(),
            )
            .await?;
        unique(
            manager,
            "invoices_number_key",
            Invoices::Table,
            &[Invoices::SeriesId, Invoices::Sequence],
        )
        .await?;
        for (name, columns) in [
            (
                "invoices_status_idx",
                &[Invoices::Status, Invoices::DueDate][..],
            ),
            ("invoices_issue_date_idx", &[Invoices::IssueDate]),
            ("invoices_quote_idx", &[Invoices::QuoteId]),
            ("invoices_contact_idx", &[Invoices::ContactId]),
            ("invoices_company_idx", &[Invoices::CompanyId]),
        ] {
            index(manager, name, Invoices::Table, columns).await?;
        }

        manager
            .create_table(
                Table::create()
                    .table(CreditNotes::Table)
                    .if_not_exists()
                    .col(pk_uuid(CreditNotes::Id))
                    .col(uuid(CreditNotes::InvoiceId))
                    .col(uuid_null(CreditNotes::SeriesId))
                    .col(big_integer_null(CreditNotes::Sequence))
                    .col(string_len_null(CreditNotes::Number, 40))
                    .col(string_len(CreditNotes::Status, 16))
                    .col(text_null(CreditNotes::Reason))
                    .col(string_len(CreditNotes::Currency, 3))
                    .col(boolean(CreditNotes::PricesIncludeTax))
                    .col(string_len(CreditNotes::Rounding, 24))
                    .col(string_len(CreditNotes::TaxRounding, 16))
                    .col(json_null(CreditNotes::Discount))
                    .col(date_null(CreditNotes::IssueDate))
                    .col(big_integer(CreditNotes::SubtotalMinor))
                    .col(big_integer(CreditNotes::DiscountMinor))
                    .col(big_integer(CreditNotes::TaxExclusiveMinor))
                    .col(big_integer(CreditNotes::TaxMinor))
                    .col(big_integer(CreditNotes::TotalMinor))
                    .col(json(CreditNotes::TaxGroups))
                    .col(timestamp_with_time_zone_null(CreditNotes::IssuedAt))
                    .col(uuid_null(CreditNotes::OwnerId))
                    .col(timestamp_with_time_zone(CreditNotes::CreatedAt))
                    .col(timestamp_with_time_zone(CreditNotes::UpdatedAt))
                    .foreign_key(&mut fk(
                        "credit_notes_invoice_fk",
                        CreditNotes::Table,
                        CreditNotes::InvoiceId,
                        Invoices::Table,
                        Invoices::Id,
                        ForeignKeyAction::Restrict,
                    ))
                    .foreign_key(&mut fk(
                        "credit_notes_series_fk",
                        CreditNotes::Table,
                        CreditNotes::SeriesId,
                        DocumentSeries::Table,
                        DocumentSeries::Id,
                        ForeignKeyAction::Restrict,
                    ))
                    .foreign_key(&mut fk(
                        "credit_notes_owner_fk",
                        CreditNotes::Table,
                        CreditNotes::OwnerId,
                        Users::Table,
                        Users::Id,
                        ForeignKeyAction::SetNull,
                    ))
                    .to_owned(),
            )
            .await?;
        unique(
            manager,
            "credit_notes_number_key",
            CreditNotes::Table,
            &[CreditNotes::SeriesId, CreditNotes::Sequence],
        )
        .await?;
        index(
            manager,
            "credit_notes_invoice_idx",
            CreditNotes::Table,
            &[CreditNotes::InvoiceId],
        )
        .await?;

        manager
            .create_table(
                Table::create()
                    .table(Payments::Table)
                    .if_not_exists()
                    .col(pk_uuid(Payments::Id))
                    .col(uuid_null(Payments::ContactId))
                    .col(uuid_null(Payments::CompanyId))
                    .col(big_integer(Payments::AmountMinor))
                    .col(big_integer(Payments::UnallocatedMinor))
                    .col(string_len(Payments::Currency, 3))
                    .col(string_len(Payments::Method, 20))
                    .col(string_len_null(Payments::Reference, 200))
                    .col(date(Payments::ReceivedOn))
                    .col(text_null(Payments::Notes))
                    .col(uuid_null(Payments::RecordedBy))
                    .col(timestamp_with_time_zone(Payments::CreatedAt))
                    .foreign_key(&mut fk(
                        "payments_contact_fk",
                        Payments::Table,
                        Payments::ContactId,
                        Contacts::Table,
                        Contacts::Id,
                        ForeignKeyAction::SetNull,
                    ))
                    .foreign_key(&mut fk(
                        "payments_company_fk",
                        Payments::Table,
                        Payments::CompanyId,
                        Companies::Table,
                        Companies::Id,
                        ForeignKeyAction::SetNull,
                    ))
                    .foreign_key(&mut fk(
                        "payments_recorded_by_fk",
                        Payments::Table,
                        Payments::RecordedBy,
                        Users::Table,
                        Users::Id,
                        ForeignKeyAction::SetNull,
                    ))
                    .to_owned(),
            )
            .await?;
        index(
            manager,
            "payments_received_idx",
            Payments::Table,
            &[Payments::ReceivedOn, Payments::Id],
        )
        .await?;

        manager
            .create_table(
                Table::create()
                    .table(PaymentAllocations::Table)
                    .if_not_exists()
                    .col(pk_uuid(PaymentAllocations::Id))
                    .col(uuid(PaymentAllocations::PaymentId))
                    .col(uuid(PaymentAllocations::InvoiceId))
                    .col(big_integer(PaymentAllocations::AmountMinor))
                    .foreign_key(&mut fk(
                        "payment_allocations_payment_fk",
                        PaymentAllocations::Table,
                        PaymentAllocations::PaymentId,
                        Payments::Table,
                        Payments::Id,
                        ForeignKeyAction::Cascade,
                    ))
                    .foreign_key(&mut fk(
                        "payment_allocations_invoice_fk",
                        PaymentAllocations::Table,
                        PaymentAllocations::InvoiceId,
                        Invoices::Table,
                        Invoices::Id,
                        ForeignKeyAction::Restrict,
                    ))
                    .to_owned(),
            )
            .await?;
        index(
            manager,
            "payment_allocations_payment_idx",
            PaymentAllocations::Table,
            &[PaymentAllocations::PaymentId],
        )
        .await?;
        index(
            manager,
            "payment_allocations_invoice_idx",
            PaymentAllocations::Table,
            &[PaymentAllocations::InvoiceId],
        )
        .await?;

        // A document line belongs to a quote, an invoice or a credit note. SQLite adds a
        // column with its reference only inline.
        let uuid_type = match manager.get_database_backend() {
            DbBackend::Postgres => "uuid",
            _ => "uuid_text",
        };
        for (column, table) in [
            ("invoice_id", "invoices"),
            ("credit_note_id", "credit_notes"),
        ] {
            manager
                .get_connection()
                .execute_unprepared(&format!(
                    "ALTER TABLE document_lines ADD COLUMN {column} {uuid_type} \
                     REFERENCES {table} (id) ON DELETE CASCADE"
                ))
                .await?;
        }
        index(
            manager,
            "document_lines_invoice_idx",
            DocumentLines::Table,
            &[DocumentLines::InvoiceId, DocumentLines::Position],
        )
        .await?;
        index(
            manager,
            "document_lines_credit_note_idx",
            DocumentLines::Table,
            &[DocumentLines::CreditNoteId, DocumentLines::Position],
        )
        .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        for table in [
            PaymentAllocations::Table.into_iden(),
            Payments::Table.into_iden(),
        ] {
            manager
                .drop_table(Table::drop().table(table).to_owned())
                .await?;
        }
        manager
            .drop_table(Table::drop().table(CreditNotes::Table).to_owned())
            .await?;
        manager
            .drop_table(Table::drop().table(Invoices::Table).to_owned())
            .await
    }
}

async fn unique<T: IntoIden + Copy, C: IntoIden + Copy>(
    manager: &SchemaManager<'_>,
    name: &str,
    table: T,
    columns: &[C],
) -> Result<(), DbErr> {
    let mut statement = Index::create();
    statement.name(name).table(table).unique().if_not_exists();
    for column in columns {
        statement.col(*column);
    }
    manager.create_index(statement.to_owned()).await
}

#[derive(DeriveIden, Clone, Copy)]
enum Invoices {
    Table,
    Id,
    SeriesId,
    Sequence,
    Number,
    Status,
    QuoteId,
    ContactId,
    CompanyId,
    Currency,
    PricesIncludeTax,
    Rounding,
    TaxRounding,
    Discount,
    Notes,
    Terms,
    PaymentTermsDays,
    IssueDate,
    DueDate,
    SubtotalMinor,
    DiscountMinor,
    TaxExclusiveMinor,
    TaxMinor,
    TotalMinor,
    TaxGroups,
    CreditedMinor,
    PaidMinor,
    Buyer,
    IssuedAt,
    OwnerId,
    CreatedAt,
    UpdatedAt,
}

#[derive(DeriveIden, Clone, Copy)]
enum CreditNotes {
    Table,
    Id,
    InvoiceId,
    SeriesId,
    Sequence,
    Number,
    Status,
    Reason,
    Currency,
    PricesIncludeTax,
    Rounding,
    TaxRounding,
    Discount,
    IssueDate,
    SubtotalMinor,
    DiscountMinor,
    TaxExclusiveMinor,
    TaxMinor,
    TotalMinor,
    TaxGroups,
    IssuedAt,
    OwnerId,
    CreatedAt,
    UpdatedAt,
}

#[derive(DeriveIden, Clone, Copy)]
enum Payments {
    Table,
    Id,
    ContactId,
    CompanyId,
    AmountMinor,
    UnallocatedMinor,
    Currency,
    Method,
    Reference,
    ReceivedOn,
    Notes,
    RecordedBy,
    CreatedAt,
}

#[derive(DeriveIden, Clone, Copy)]
enum PaymentAllocations {
    Table,
    Id,
    PaymentId,
    InvoiceId,
    AmountMinor,
}

#[derive(DeriveIden, Clone, Copy)]
enum DocumentLines {
    Table,
    InvoiceId,
    CreditNoteId,
    Position,
}

#[derive(DeriveIden, Clone, Copy)]
enum DocumentSeries {
    Table,
    Id,
}

#[derive(DeriveIden, Clone, Copy)]
enum Quotes {
    Table,
    Id,
}

#[derive(DeriveIden, Clone, Copy)]
enum Contacts {
    Table,
    Id,
}

#[derive(DeriveIden, Clone, Copy)]
enum Companies {
    Table,
    Id,
}

#[derive(DeriveIden, Clone, Copy)]
enum Users {
    Table,
    Id,
}
