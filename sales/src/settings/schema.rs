//! Sales settings and number series over GraphQL.

use async_graphql::{Context, ID, InputObject, MaybeUndefined, Object};
use chrono::NaiveDate;
use chrono_tz::Tz;
use entity::tenant::{document_series, sales_setting};
use platform::{
    auth::{Role, RoleGuard},
    domain::Patch,
    error::{AppError, AppResult, GqlResult},
    graphql::ContextExt,
    parse_id,
};

use crate::{
    settings::{self, NewSeries, SeriesChanges, SettingsChanges},
    shared::{currency_input, id, patch_id, required_text},
    tax_rates::{self, schema::TaxRateNode},
    types::{RoundingMode, SeriesKind, TaxRounding},
};

/// Fields left out stay as they are.
#[derive(InputObject, Default)]
pub struct UpdateSalesSettingsInput {
    /// An IANA timezone (`Europe/Madrid`): where a quote's valid-until day ends.
    pub timezone: Option<String>,
    /// ISO 4217: new documents' currency unless they say.
    pub default_currency: Option<String>,
    pub rounding: Option<RoundingMode>,
    pub tax_rounding: Option<TaxRounding>,
    /// Whether new documents' prices include tax.
    pub prices_include_tax: Option<bool>,
    /// The rate of lines that name none (and whose product has none); `null` clears it.
    pub default_tax_rate_id: MaybeUndefined<ID>,
    /// A new quote is valid this many days unless it says.
    pub quote_validity_days: Option<i32>,
}

impl UpdateSalesSettingsInput {
    fn parse(self) -> AppResult<SettingsChanges> {
        Ok(SettingsChanges {
            timezone: self
                .timezone
                .map(|raw| {
                    raw.trim().parse::<Tz>().map_err(|_| {
                        AppError::bad_input("timezone", format!("{raw:?} is not an IANA timezone"))
                    })
                })
                .transpose()?,
            default_currency: self
                .default_currency
                .map(|raw| currency_input(&raw, "defaultCurrency").map(|(code, _)| code))
                .transpose()?,
            rounding: self.rounding,
            tax_rounding: self.tax_rounding,
            prices_include_tax: self.prices_include_tax,
            default_tax_rate_id: patch_id(self.default_tax_rate_id, "defaultTaxRateId")?,
            quote_validity_days: match self.quote_validity_days {
                Some(days) if !(1..=3650).contains(&days) => {
                    return Err(AppError::bad_input(
                        "quoteValidityDays",
                        "quoteValidityDays is between 1 and 3650",
                    ));
                }
                days => days,
            },
        })
    }
}

pub struct SalesSettingsNode(pub sales_setting::Model);

/// How the tenant sells: where its days end, its currency, how it rounds and taxes.
#[Object(name = "SalesSettings")]
impl SalesSettingsNode {
    async fn timezone(&self) -> &str {
        &self.0.timezone
    }
    async fn default_currency(&self) -> &str {
        &self.0.default_currency
    }
    async fn rounding(&self) -> GqlResult<RoundingMode> {
        Ok(RoundingMode::from_stored(&self.0.rounding)?)
    }
    async fn tax_rounding(&self) -> GqlResult<TaxRounding> {
        Ok(TaxRounding::from_stored(&self.0.tax_rounding)?)
    }
    async fn prices_include_tax(&self) -> bool {
        self.0.prices_include_tax
    }
    async fn default_tax_rate(&self, ctx: &Context<'_>) -> GqlResult<Option<TaxRateNode>> {
        let Some(rate) = self.0.default_tax_rate_id else {
            return Ok(None);
        };
        Ok(Some(TaxRateNode(
            tax_rates::find(ctx.conn().await?, rate).await?,
        )))
    }
    async fn quote_validity_days(&self) -> i32 {
        self.0.quote_validity_days
    }
}

#[derive(InputObject)]
pub struct CreateDocumentSeriesInput {
    pub kind: SeriesKind,
    pub name: String,
    /// Printed before the number (`INV-2027-`).
    pub prefix: String,
    /// The number's digits, zero-padded: 5 prints `00042`.
    #[graphql(default = 5)]
    pub digits: i32,
    #[graphql(default = 1)]
    pub first_number: i64,
    /// The last number the range allows; none for no limit.
    pub last_number: Option<i64>,
    /// New documents of its kind are numbered in it.
    #[graphql(default)]
    pub is_default: bool,
}

#[derive(InputObject, Default)]
pub struct UpdateDocumentSeriesInput {
    pub name: Option<String>,
    /// `null` lifts the limit.
    pub last_number: MaybeUndefined<i64>,
    /// `true` makes it its kind's default (the former default stops being one).
    pub is_default: Option<bool>,
}

pub struct DocumentSeriesNode(pub document_series::Model);

/// A number series: how one kind of document is numbered.
#[Object(name = "DocumentSeries")]
impl DocumentSeriesNode {
    async fn id(&self) -> ID {
        id(self.0.id)
    }
    async fn kind(&self) -> GqlResult<SeriesKind> {
        Ok(SeriesKind::from_stored(&self.0.kind)?)
    }
    async fn name(&self) -> &str {
        &self.0.name
    }
    async fn prefix(&self) -> &str {
        &self.0.prefix
    }
    async fn digits(&self) -> i32 {
        self.0.digits
    }
    /// The number the next document gets.
    async fn next_number(&self) -> i64 {
        self.0.next_number
    }
    async fn last_number(&self) -> Option<i64> {
        self.0.last_number
    }
    /// The issue date of the last document numbered; the next may not be earlier.
    async fn last_issue_date(&self) -> Option<NaiveDate> {
        self.0.last_issue_date
    }
    async fn is_default(&self) -> bool {
        self.0.is_default
    }
}

#[derive(Default)]
pub struct SettingsQuery;

#[Object]
impl SettingsQuery {
    #[graphql(guard = "RoleGuard::at_least(Role::Viewer)")]
    async fn sales_settings(&self, ctx: &Context<'_>) -> GqlResult<SalesSettingsNode> {
        Ok(SalesSettingsNode(settings::get(ctx.conn().await?).await?))
    }

    /// Number series, by kind.
    #[graphql(guard = "RoleGuard::at_least(Role::Viewer)")]
    async fn document_series(
        &self,
        ctx: &Context<'_>,
        kind: Option<SeriesKind>,
    ) -> GqlResult<Vec<DocumentSeriesNode>> {
        let rows = settings::list_series(ctx.conn().await?, kind).await?;
        Ok(rows.into_iter().map(DocumentSeriesNode).collect())
    }
}

#[derive(Default)]
pub struct SettingsMutation;

#[Object]
impl SettingsMutation {
    #[graphql(guard = "RoleGuard::at_least(Role::Admin)")]
    async fn update_sales_settings(
        &self,
        ctx: &Context<'_>,
        input: UpdateSalesSettingsInput,
    ) -> GqlResult<SalesSettingsNode> {
        let changes = input.parse()?;
        Ok(SalesSettingsNode(
            settings::update(ctx.conn().await?, changes).await?,
        ))
    }

    #[graphql(guard = "RoleGuard::at_least(Role::Admin)")]
    async fn create_document_series(
        &self,
        ctx: &Context<'_>,
        input: CreateDocumentSeriesInput,
    ) -> GqlResult<DocumentSeriesNode> {
        if !(1..=12).contains(&input.digits) {
            return Err(AppError::bad_input("digits", "digits is between 1 and 12").into());
        }
        let new = NewSeries {
            kind: input.kind,
            name: required_text(&input.name, "name", 100)?,
            prefix: prefix_input(&input.prefix)?,
            digits: input.digits,
            first_number: input.first_number,
            last_number: input.last_number,
            is_default: input.is_default,
        };
        Ok(DocumentSeriesNode(
            settings::create_series(ctx.conn().await?, new).await?,
        ))
    }

    #[graphql(guard = "RoleGuard::at_least(Role::Admin)")]
    async fn update_document_series(
        &self,
        ctx: &Context<'_>,
        id: ID,
        input: UpdateDocumentSeriesInput,
    ) -> GqlResult<DocumentSeriesNode> {
        let id = parse_id(&id, "id")?;
        let changes = SeriesChanges {
            name: input
                .name
                .as_deref()
                .map(|n| required_text(n, "name", 100))
                .transpose()?,
            last_number: Patch::from_graphql(input.last_number),
            is_default: input.is_default,
        };
        Ok(DocumentSeriesNode(
            settings::update_series(ctx.conn().await?, id, changes).await?,
        ))
    }
}

/// A prefix: up to 20 printable characters, no spaces at either end; may be empty.
fn prefix_input(raw: &str) -> AppResult<String> {
    let prefix = raw.trim();
    if prefix.chars().count() > 20 || prefix.chars().any(char::is_control) {
        return Err(AppError::bad_input(
            "prefix",
            "a prefix has at most 20 printable characters",
        ));
    }
    Ok(prefix.to_owned())
}
