use sea_orm_migration::{prelude::*, schema::*, sea_orm::prelude::Uuid};

use super::{fk, index};

/// Sales: the tenant's settings (one row), tax rates, number series, the catalog (products
/// and bundles' components), quotes and the lines of sales documents. Exact decimals
/// (quantities, prices, rates) are stored as their decimal text on both backends, amounts as
/// 64-bit integer minor units.
#[derive(DeriveMigrationName)]
pub struct Migration;

/// Decimal text: `-` and up to 28 digits with a point.
const DECIMAL_TEXT: u32 = 40;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table(TaxRates::Table)
                    .if_not_exists()
                    .col(pk_uuid(TaxRates::Id))
                    .col(string_len(TaxRates::Name, 100))
                    .col(string_len_uniq(TaxRates::NameKey, 100))
                    .col(string_len(TaxRates::Kind, 20))
                    .col(string_len(TaxRates::Percentage, DECIMAL_TEXT))
                    .col(boolean(TaxRates::Active))
                    .col(timestamp_with_time_zone(TaxRates::CreatedAt))
                    .col(timestamp_with_time_zone(TaxRates::UpdatedAt))
                    .to_owned(),
            )
            .await?;

        manager
            .create_table(
                Table::create()
                    .table(SalesSettings::Table)
                    .if_not_exists()
                    .col(integer(SalesSettings::Id).primary_key())
                    .col(string_len(SalesSettings::Timezone, 64))
                    .col(string_len(SalesSettings::DefaultCurrency, 3))
                    .col(string_len(SalesSettings::Rounding, 24))
                    .col(string_len(SalesSettings::TaxRounding, 16))
                    .col(boolean(SalesSettings::PricesIncludeTax))
                    .col(uuid_null(SalesSettings::DefaultTaxRateId))
                    .col(integer(SalesSettings::QuoteValidityDays))
                    .col(timestamp_with_time_zone(SalesSettings::UpdatedAt))
                    .foreign_key(&mut fk(
                        "sales_settings_tax_rate_fk",
                        SalesSettings::Table,
                        SalesSettings::DefaultTaxRateId,
                        TaxRates::Table,
                        TaxRates::Id,
                        ForeignKeyAction::SetNull,
                    ))
                    .to_owned(),
            )
            .await?;

        manager
            .create_table(
                Table::create()
                    .table(DocumentSeries::Table)
                    .if_not_exists()
                    .col(pk_uuid(DocumentSeries::Id))
                    .col(string_len(DocumentSeries::Kind, 20))
                    .col(string_len(DocumentSeries::Name, 100))
                    .col(string_len(DocumentSeries::Prefix, 20))
                    .col(integer(DocumentSeries::Digits))
                    .col(big_integer(DocumentSeries::NextNumber))
                    .col(big_integer_null(DocumentSeries::LastNumber))
                    .col(date_null(DocumentSeries::LastIssueDate))
                    .col(boolean(DocumentSeries::IsDefault))
                    .col(timestamp_with_time_zone(DocumentSeries::CreatedAt))
                    .col(timestamp_with_time_zone(DocumentSeries::UpdatedAt))
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("document_series_prefix_key")
                    .table(DocumentSeries::Table)
                    .col(DocumentSeries::Kind)
                    .col(DocumentSeries::Prefix)
                    .unique()
                    .if_not_exists()
                    .to_owned(),
            )
            .await?;

        manager
            .create_table(
                Table::create()
                    .table(Products::Table)
                    .if_not_exists()
                    .col(pk_uuid(Products::Id))
                    .col(string_len(Products::Kind, 16))
                    .col(string_len(Products::Sku, 64))
                    .col(string_len_uniq(Products::SkuKey, 64))
                    .col(string_len(Products::Name, 200))
                    .col(string_len(Products::NameKey, 200))
                    .col(text_null(Products::Description))
                    .col(string_len_null(Products::Unit, 20))
                    .col(string_len(Products::UnitPrice, DECIMAL_TEXT))
                    .col(string_len(Products::Currency, 3))
                    .col(uuid_null(Products::TaxRateId))
                    .col(boolean(Products::Active))
                    .col(timestamp_with_time_zone(Products::CreatedAt))
                    .col(timestamp_with_time_zone(Products::UpdatedAt))
                    .foreign_key(&mut fk(
                        "products_tax_rate_fk",
                        Products::Table,
                        Products::TaxRateId,
                        TaxRates::Table,
                        TaxRates::Id,
                        ForeignKeyAction::SetNull,
                    ))
                    .to_owned(),
            )
            .await?;
        index(
            manager,
            "products_name_idx",
            Products::Table,
            &[Products::NameKey, Products::Id],
        )
        .await?;

        manager
            .create_table(
                Table::create()
                    .table(ProductComponents::Table)
                    .if_not_exists()
                    .col(pk_uuid(ProductComponents::Id))
                    .col(uuid(ProductComponents::BundleId))
                    .col(uuid(ProductComponents::ComponentId))
                    .col(string_len(ProductComponents::Quantity, DECIMAL_TEXT))
                    .col(integer(ProductComponents::Position))
                    .foreign_key(&mut fk(
                        "product_components_bundle_fk",
                        ProductComponents::Table,
                        ProductComponents::BundleId,
                        Products::Table,
                        Products::Id,
                        ForeignKeyAction::Cascade,
                    ))
                    .foreign_key(&mut fk(
                        "product_components_component_fk",
                        ProductComponents::Table,
                        ProductComponents::ComponentId,
                        Products::Table,
                        Products::Id,
                        ForeignKeyAction::Restrict,
                    ))
                    .to_owned(),
            )
            .await?;
        index(
            manager,
            "product_components_bundle_idx",
            ProductComponents::Table,
            &[ProductComponents::BundleId, ProductComponents::Position],
        )
        .await?;
        index(
            manager,
            "product_components_component_idx",
            ProductComponents::Table,
            &[ProductComponents::ComponentId],
        )
        .await?;

        manager
            .create_table(
                Table::create()
                    .table(Quotes::Table)
                    .if_not_exists()
                    .col(pk_uuid(Quotes::Id))
                    .col(uuid_null(Quotes::SeriesId))
                    .col(big_integer_null(Quotes::Sequence))
                    .col(string_len_null(Quotes::Number, 40))
                    .col(integer(Quotes::Revision))
                    .col(uuid_null(Quotes::PreviousId))
                    .col(uuid_null(Quotes::ContactId))
                    .col(uuid_null(Quotes::CompanyId))
                    .col(uuid_null(Quotes::OpportunityId))
                    .col(string_len(Quotes::Status, 16))
                    .col(string_len(Quotes::Currency, 3))
                    .col(boolean(Quotes::PricesIncludeTax))
                    .col(string_len(Quotes::Rounding, 24))
                    .col(string_len(Quotes::TaxRounding, 16))
                    .col(json_null(Quotes::Discount))
                    .col(text_null(Quotes::Notes))
                    .col(text_null(Quotes::Terms))
                    .col(date_null(Quotes::ValidUntil))
                    .col(timestamp_with_time_zone_null(Quotes::ExpiresAt))
                    .col(big_integer(Quotes::SubtotalMinor))
                    .col(big_integer(Quotes::DiscountMinor))
                    .col(big_integer(Quotes::TaxExclusiveMinor))
                    .col(big_integer(Quotes::TaxMinor))
                    .col(big_integer(Quotes::TotalMinor))
                    .col(json(Quotes::TaxGroups))
                    .col(json_null(Quotes::Buyer))
                    .col(string_len_null(Quotes::LinkHash, 64))
                    .col(timestamp_with_time_zone_null(Quotes::SentAt))
                    .col(timestamp_with_time_zone_null(Quotes::DecidedAt))
                    .col(json_null(Quotes::Decision))
                    .col(uuid_null(Quotes::OwnerId))
                    .col(timestamp_with_time_zone(Quotes::CreatedAt))
                    .col(timestamp_with_time_zone(Quotes::UpdatedAt))
                    .foreign_key(&mut fk(
                        "quotes_series_fk",
                        Quotes::Table,
                        Quotes::SeriesId,
                        DocumentSeries::Table,
                        DocumentSeries::Id,
                        ForeignKeyAction::Restrict,
                    ))
                    .foreign_key(&mut fk(
                        "quotes_previous_fk",
                        Quotes::Table,
                        Quotes::PreviousId,
                        Quotes::Table,
                        Quotes::Id,
                        ForeignKeyAction::SetNull,
                    ))
                    .foreign_key(&mut fk(
                        "quotes_contact_fk",
                        Quotes::Table,
                        Quotes::ContactId,
                        Contacts::Table,
                        Contacts::Id,
                        ForeignKeyAction::SetNull,
                    ))
                    .foreign_key(&mut fk(
                        "quotes_company_fk",
                        Quotes::Table,
                        Quotes::CompanyId,
                        Companies::Table,
                        Companies::Id,
                        ForeignKeyAction::SetNull,
                    ))
                    .foreign_key(&mut fk(
                        "quotes_opportunity_fk",
                        Quotes::Table,
                        Quotes::OpportunityId,
                        Opportunities::Table,
                        Opportunities::Id,
                        ForeignKeyAction::SetNull,
                    ))
                    .foreign_key(&mut fk(
                        "quotes_owner_fk",
                        Quotes::Table,
                        Quotes::OwnerId,
                        Users::Table,
                        Users::Id,
                        ForeignKeyAction::SetNull,
                    ))
                    .to_owned(),
            )
            .await?;
        for (name, columns) in [
            ("quotes_created_idx", &[Quotes::CreatedAt, Quotes::Id][..]),
            ("quotes_status_idx", &[Quotes::Status, Quotes::CreatedAt]),
            ("quotes_contact_idx", &[Quotes::ContactId]),
            ("quotes_company_idx", &[Quotes::CompanyId]),
            ("quotes_opportunity_idx", &[Quotes::OpportunityId]),
            ("quotes_previous_idx", &[Quotes::PreviousId]),
        ] {
            index(manager, name, Quotes::Table, columns).await?;
        }
        for (name, columns) in [
            (
                "quotes_number_key",
                &[Quotes::SeriesId, Quotes::Sequence, Quotes::Revision][..],
            ),
            ("quotes_link_key", &[Quotes::LinkHash]),
        ] {
            let mut statement = Index::create();
            statement
                .name(name)
                .table(Quotes::Table)
                .unique()
                .if_not_exists();
            for column in columns {
                statement.col(*column);
            }
            manager.create_index(statement.to_owned()).await?;
        }

        manager
            .create_table(
                Table::create()
                    .table(DocumentLines::Table)
                    .if_not_exists()
                    .col(pk_uuid(DocumentLines::Id))
                    .col(uuid_null(DocumentLines::QuoteId))
                    .col(integer(DocumentLines::Position))
                    .col(uuid_null(DocumentLines::ProductId))
                    .col(string_len_null(DocumentLines::Sku, 64))
                    .col(text(DocumentLines::Description))
                    .col(string_len_null(DocumentLines::Unit, 20))
                    .col(string_len(DocumentLines::Quantity, DECIMAL_TEXT))
                    .col(string_len(DocumentLines::UnitPrice, DECIMAL_TEXT))
                    .col(json_null(DocumentLines::Discount))
                    .col(json(DocumentLines::Parts))
                    .col(big_integer(DocumentLines::NetMinor))
                    .col(big_integer(DocumentLines::DocumentDiscountMinor))
                    .foreign_key(&mut fk(
                        "document_lines_quote_fk",
                        DocumentLines::Table,
                        DocumentLines::QuoteId,
                        Quotes::Table,
                        Quotes::Id,
                        ForeignKeyAction::Cascade,
                    ))
                    .foreign_key(&mut fk(
                        "document_lines_product_fk",
                        DocumentLines::Table,
                        DocumentLines::ProductId,
                        Products::Table,
                        Products::Id,
                        ForeignKeyAction::SetNull,
                    ))
                    .to_owned(),
            )
            .await?;
        index(
            manager,
            "document_lines_quote_idx",
            DocumentLines::Table,
            &[DocumentLines::QuoteId, DocumentLines::Position],
        )
        .await?;
        index(
            manager,
            "document_lines_product_idx",
            DocumentLines::Table,
            &[DocumentLines::ProductId],
        )
        .await?;

        // What every tenant starts with: settings, and a series for each kind of document.
        let now = Expr::current_timestamp();
        manager
            .exec_stmt(
                Query::insert()
                    .into_table(SalesSettings::Table)
                    .columns([
                        SalesSettings::Id,
                        SalesSettings::Timezone,
                        SalesSettings::DefaultCurrency,
                        SalesSettings::Rounding,
                        SalesSettings::TaxRounding,
                        SalesSettings::PricesIncludeTax,
                        SalesSettings::QuoteValidityDays,
                        SalesSettings::UpdatedAt,
                    ])
                    .values_panic([
                        1.into(),
                        "UTC".into(),
                        "USD".into(),
                        "half_away_from_zero".into(),
                        "per_group".into(),
                        false.into(),
                        30.into(),
                        now.clone(),
                    ])
                    .to_owned(),
            )
            .await?;
        for (kind, name, prefix) in [
            ("quote", "Quotes", "Q-"),
            ("invoice", "Invoices", "INV-"),
            ("credit_note", "Credit notes", "CN-"),
        ] {
            manager
                .exec_stmt(
                    Query::insert()
                        .into_table(DocumentSeries::Table)
                        .columns([
                            DocumentSeries::Id,
                            DocumentSeries::Kind,
                            DocumentSeries::Name,
                            DocumentSeries::Prefix,
                            DocumentSeries::Digits,
                            DocumentSeries::NextNumber,
                            DocumentSeries::IsDefault,
                            DocumentSeries::CreatedAt,
                            DocumentSeries::UpdatedAt,
                        ])
                        .values_panic([
                            Uuid::now_v7().into(),
                            kind.into(),
                            name.into(),
                            prefix.into(),
                            5.into(),
                            1i64.into(),
                            true.into(),
                            now.clone(),
                            now.clone(),
                        ])
                        .to_owned(),
                )
                .await?;
        }
        Ok(())
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        for table in [
            DocumentLines::Table.into_iden(),
            Quotes::Table.into_iden(),
            ProductComponents::Table.into_iden(),
            Products::Table.into_iden(),
            DocumentSeries::Table.into_iden(),
            SalesSettings::Table.into_iden(),
            TaxRates::Table.into_iden(),
        ] {
            manager
                .drop_table(Table::drop().table(table).to_owned())
                .await?;
        }
        Ok(())
    }
}

#[derive(DeriveIden, Clone, Copy)]
enum TaxRates {
    Table,
    Id,
    Name,
    NameKey,
    Kind,
    Percentage,
    Active,
    CreatedAt,
    UpdatedAt,
}

#[derive(DeriveIden, Clone, Copy)]
enum SalesSettings {
    Table,
    Id,
    Timezone,
    DefaultCurrency,
    Rounding,
    TaxRounding,
    PricesIncludeTax,
    DefaultTaxRateId,
    QuoteValidityDays,
    UpdatedAt,
}

#[derive(DeriveIden, Clone, Copy)]
enum DocumentSeries {
    Table,
    Id,
    Kind,
    Name,
    Prefix,
    Digits,
    NextNumber,
    LastNumber,
    LastIssueDate,
    IsDefault,
    CreatedAt,
    UpdatedAt,
}

#[derive(DeriveIden, Clone, Copy)]
enum Products {
    Table,
    Id,
    Kind,
    Sku,
    SkuKey,
    Name,
    NameKey,
    Description,
    Unit,
    UnitPrice,
    Currency,
    TaxRateId,
    Active,
    CreatedAt,
    UpdatedAt,
}

#[derive(DeriveIden, Clone, Copy)]
enum ProductComponents {
    Table,
    Id,
    BundleId,
    ComponentId,
    Quantity,
    Position,
}

#[derive(DeriveIden, Clone, Copy)]
enum Quotes {
    Table,
    Id,
    SeriesId,
    Sequence,
    Number,
    Revision,
    PreviousId,
    ContactId,
    CompanyId,
    OpportunityId,
    Status,
    Currency,
    PricesIncludeTax,
    Rounding,
    TaxRounding,
    Discount,
    Notes,
    Terms,
    ValidUntil,
    ExpiresAt,
    SubtotalMinor,
    DiscountMinor,
    TaxExclusiveMinor,
    TaxMinor,
    TotalMinor,
    TaxGroups,
    Buyer,
    LinkHash,
    SentAt,
    DecidedAt,
    Decision,
    OwnerId,
    CreatedAt,
    UpdatedAt,
}

#[derive(DeriveIden, Clone, Copy)]
enum DocumentLines {
    Table,
    Id,
    QuoteId,
    Position,
    ProductId,
    Sku,
    Description,
    Unit,
    Quantity,
    UnitPrice,
    Discount,
    Parts,
    NetMinor,
    DocumentDiscountMinor,
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
enum Opportunities {
    Table,
    Id,
}

#[derive(DeriveIden, Clone, Copy)]
enum Users {
    Table,
    Id,
}
