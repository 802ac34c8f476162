//! Quotes over GraphQL.

use async_graphql::{Context, ID, InputObject, MaybeUndefined, Object, SimpleObject};
use chrono::{DateTime, NaiveDate, Utc};
use crm::{
    companies::{loader::CompanyById, schema::CompanyNode},
    contacts::{loader::ContactById, schema::ContactNode},
    opportunities::{loader::OpportunityById, schema::OpportunityNode},
};
use entity::tenant::quote;
use identity::schema::{UserNode, user};
use platform::{
    auth::{Role, RoleGuard},
    domain::Patch,
    error::{AppError, AppResult, GqlResult},
    graphql::{
        ContextExt, Money, load_one, money,
        pagination::{Cursor, Page, PageConnection, PageRequest, total_if_asked},
    },
    jobs, parse_id,
};

use crate::{
    lines::{
        loader::LinesByQuote,
        schema::{
            DocumentTotals, Figures, LineInput, LineNode, currency_of, line_nodes, parse_lines,
        },
    },
    quotes::{
        self, DecidedBy, Decision, Evidence, NewQuote, QuoteChanges, QuoteFilter,
        expiry::ExpireQuote, loader::QuoteById,
    },
    shared::{
        DiscountInput, DocumentDiscount, id, opt_id, optional_text, patch_id, patch_text,
        required_text, stored_discount,
    },
    types::{QuoteAction, QuoteStatus},
};

/// The longest notes or terms.
const MAX_TEXT: usize = 20_000;

#[derive(InputObject)]
pub struct CreateQuoteInput {
    pub contact_id: Option<ID>,
    pub company_id: Option<ID>,
    /// The deal it prices: accepting the quote wins it.
    pub opportunity_id: Option<ID>,
    /// ISO 4217; default: the tenant's default currency.
    pub currency: Option<String>,
    /// Default: the tenant's setting.
    pub prices_include_tax: Option<bool>,
    /// The last day the client may accept, in the tenant's timezone; default: today plus
    /// the tenant's validity days.
    pub valid_until: Option<NaiveDate>,
    pub notes: Option<String>,
    pub terms: Option<String>,
    /// A discount on the whole quote, shared among the lines.
    pub discount: Option<DiscountInput>,
    #[graphql(default)]
    pub lines: Vec<LineInput>,
}

/// A draft's fields; those left out stay as they are, `null` clears an optional one.
#[derive(InputObject, Default)]
pub struct UpdateQuoteInput {
    pub contact_id: MaybeUndefined<ID>,
    pub company_id: MaybeUndefined<ID>,
    pub opportunity_id: MaybeUndefined<ID>,
    pub currency: Option<String>,
    pub prices_include_tax: Option<bool>,
    pub valid_until: MaybeUndefined<NaiveDate>,
    pub notes: MaybeUndefined<String>,
    pub terms: MaybeUndefined<String>,
    pub discount: MaybeUndefined<DiscountInput>,
    /// Replaces every line.
    pub lines: Option<Vec<LineInput>>,
}

#[derive(InputObject, Default)]
pub struct QuoteFilterInput {
    pub status: Option<Vec<QuoteStatus>>,
    pub contact_id: Option<ID>,
    pub company_id: Option<ID>,
    pub opportunity_id: Option<ID>,
    /// Part of the number.
    pub search: Option<String>,
}

#[derive(InputObject)]
pub struct AcceptQuoteInput {
    /// The name of the person who accepted, as they gave it.
    pub name: String,
}

#[derive(InputObject, Default)]
pub struct RejectQuoteInput {
    pub reason: Option<String>,
}

pub struct QuoteNode(pub quote::Model);

impl QuoteNode {
    fn evidence(&self) -> AppResult<Option<Evidence>> {
        self.0
            .decision
            .as_ref()
            .map(|value| {
                serde_json::from_value(value.clone()).map_err(|e| {
                    AppError::internal(format!("a quote's stored decision does not parse: {e}"))
                })
            })
            .transpose()
    }
}

/// An offer to a client: one revision of it.
#[Object(name = "Quote")]
impl QuoteNode {
    async fn id(&self) -> ID {
        id(self.0.id)
    }
    /// Set when first sent; its revisions keep it.
    async fn number(&self) -> Option<&str> {
        self.0.number.as_deref()
    }
    /// From 1.
    async fn revision(&self) -> i32 {
        self.0.revision
    }
    /// A sent quote whose valid-until day has ended is `EXPIRED`.
    async fn status(&self) -> GqlResult<QuoteStatus> {
        Ok(quotes::status_at(&self.0, Utc::now())?)
    }
    /// What its state allows now.
    async fn available_actions(&self) -> GqlResult<Vec<QuoteAction>> {
        Ok(quotes::available_actions(&self.0, Utc::now())?)
    }
    async fn contact(&self, ctx: &Context<'_>) -> GqlResult<Option<ContactNode>> {
        let Some(contact) = self.0.contact_id else {
            return Ok(None);
        };
        Ok(load_one::<ContactById, _>(ctx, contact)
            .await?
            .map(ContactNode))
    }
    async fn company(&self, ctx: &Context<'_>) -> GqlResult<Option<CompanyNode>> {
        let Some(company) = self.0.company_id else {
            return Ok(None);
        };
        Ok(load_one::<CompanyById, _>(ctx, company)
            .await?
            .map(CompanyNode))
    }
    async fn opportunity(&self, ctx: &Context<'_>) -> GqlResult<Option<OpportunityNode>> {
        let Some(opportunity) = self.0.opportunity_id else {
            return Ok(None);
        };
        Ok(load_one::<OpportunityById, _>(ctx, opportunity)
            .await?
            .map(OpportunityNode::new))
    }
    /// ISO 4217.
    async fn currency(&self) -> &str {
        &self.0.currency
    }
    async fn prices_include_tax(&self) -> bool {
        self.0.prices_include_tax
    }
    async fn discount(&self) -> GqlResult<Option<DocumentDiscount>> {
        Ok(stored_discount(self.0.discount.as_ref())?.map(DocumentDiscount::from))
    }
    async fn notes(&self) -> Option<&str> {
        self.0.notes.as_deref()
    }
    async fn terms(&self) -> Option<&str> {
        self.0.terms.as_deref()
    }
    /// The last day the client may accept, in the tenant's timezone.
    async fn valid_until(&self) -> Option<NaiveDate> {
        self.0.valid_until
    }
    /// When that day ends, fixed when the quote is sent.
    async fn expires_at(&self) -> Option<DateTime<Utc>> {
        self.0.expires_at
    }
    #[graphql(complexity = "platform::graphql::complexity::list(200, child_complexity)")]
    async fn lines(&self, ctx: &Context<'_>) -> GqlResult<Vec<LineNode>> {
        let lines = load_one::<LinesByQuote, _>(ctx, self.0.id).await?;
        Ok(line_nodes(lines.unwrap_or_default(), &self.0.currency))
    }
    async fn totals(&self) -> GqlResult<DocumentTotals> {
        Figures::from(&self.0).totals()
    }
    /// Who it was sent to, as they were then: `contactName`, `email`, `companyName`,
    /// `address`.
    async fn buyer(&self) -> Option<async_graphql::Json<serde_json::Value>> {
        self.0.buyer.clone().map(async_graphql::Json)
    }
    async fn sent_at(&self) -> Option<DateTime<Utc>> {
        self.0.sent_at
    }
    async fn decided_at(&self) -> Option<DateTime<Utc>> {
        self.0.decided_at
    }
    /// The client's decision with its evidence, once decided.
    async fn decision(&self) -> GqlResult<Option<QuoteDecision>> {
        Ok(self.evidence()?.map(|e| QuoteDecision {
            accepted: e.decision == QuoteStatus::Accepted.as_str(),
            name: e.name,
            reason: e.reason,
            terms_hash: e.terms_hash,
            revision: e.revision,
            total: money(e.total_minor, &e.currency).ok(),
            at: e.at,
            via_link: e.via_link,
        }))
    }
    /// The revision this one replaced.
    async fn previous_revision(&self, ctx: &Context<'_>) -> GqlResult<Option<QuoteNode>> {
        let Some(previous) = self.0.previous_id else {
            return Ok(None);
        };
        Ok(load_one::<QuoteById, _>(ctx, previous)
            .await?
            .map(QuoteNode))
    }
    async fn owner(&self, ctx: &Context<'_>) -> GqlResult<Option<UserNode>> {
        user(ctx, self.0.owner_id).await
    }
    async fn created_at(&self) -> DateTime<Utc> {
        self.0.created_at
    }
    async fn updated_at(&self) -> DateTime<Utc> {
        self.0.updated_at
    }
}

/// The client's decision on a quote.
#[derive(SimpleObject)]
pub struct QuoteDecision {
    pub accepted: bool,
    /// The name the client gave when accepting.
    pub name: Option<String>,
    /// Why the client rejected it, if they said.
    pub reason: Option<String>,
    /// SHA-256 of the terms the client saw, hex.
    pub terms_hash: String,
    pub revision: i32,
    pub total: Option<Money>,
    pub at: DateTime<Utc>,
    /// Whether the client decided on the public link (else a user recorded it).
    pub via_link: bool,
}

/// A quote just sent, with its public link's token: shown only here, never again.
#[derive(SimpleObject)]
pub struct SentQuote {
    pub quote: QuoteNode,
    /// The path of the public page on the tenant's host (`/q/<token>`): the client reads,
    /// accepts or rejects the quote there without signing in.
    pub public_path: String,
}

#[derive(Default)]
pub struct QuotesQuery;

#[Object]
impl QuotesQuery {
    /// Quotes, newest first.
    #[graphql(
        guard = "RoleGuard::at_least(Role::Viewer)",
        complexity = "platform::graphql::complexity::page(first, last, child_complexity)"
    )]
    async fn quotes(
        &self,
        ctx: &Context<'_>,
        first: Option<i32>,
        after: Option<String>,
        last: Option<i32>,
        before: Option<String>,
        filter: Option<QuoteFilterInput>,
    ) -> GqlResult<Page<QuoteNode>> {
        let filter = filter.unwrap_or_default();
        let filter = QuoteFilter {
            statuses: filter.status.unwrap_or_default(),
            contact_id: opt_id(filter.contact_id.as_ref(), "contactId")?,
            company_id: opt_id(filter.company_id.as_ref(), "companyId")?,
            opportunity_id: opt_id(filter.opportunity_id.as_ref(), "opportunityId")?,
            search: filter.search,
        };
        let page = PageRequest::parse(first, after, last, before)?;
        let conn = ctx.conn().await?;
        let rows = quotes::list(conn, &filter, &page).await?;
        let total = total_if_asked(ctx, quotes::count(conn, &filter)).await?;
        Ok(page.connection(rows, |q| Cursor::id(q.id), |q| Ok(QuoteNode(q)), total)?)
    }

    #[graphql(guard = "RoleGuard::at_least(Role::Viewer)")]
    async fn quote(&self, ctx: &Context<'_>, id: ID) -> GqlResult<QuoteNode> {
        let id = parse_id(&id, "id")?;
        Ok(QuoteNode(quotes::find(ctx.conn().await?, id).await?))
    }
}

#[derive(Default)]
pub struct QuotesMutation;

#[Object]
impl QuotesMutation {
    /// A new draft.
    #[graphql(guard = "RoleGuard::at_least(Role::Sales)")]
    async fn create_quote(
        &self,
        ctx: &Context<'_>,
        input: CreateQuoteInput,
    ) -> GqlResult<QuoteNode> {
        let (currency, exponent) = currency_of(input.currency.as_deref())?;
        let new = NewQuote {
            contact_id: opt_id(input.contact_id.as_ref(), "contactId")?,
            company_id: opt_id(input.company_id.as_ref(), "companyId")?,
            opportunity_id: opt_id(input.opportunity_id.as_ref(), "opportunityId")?,
            currency,
            prices_include_tax: input.prices_include_tax,
            valid_until: input.valid_until,
            notes: optional_text(input.notes.as_deref(), "notes", MAX_TEXT)?,
            terms: optional_text(input.terms.as_deref(), "terms", MAX_TEXT)?,
            discount: input
                .discount
                .map(|d| d.parse("discount", exponent))
                .transpose()?,
            lines: parse_lines(input.lines, exponent)?,
        };
        Ok(QuoteNode(
            quotes::create(ctx.conn().await?, ctx.principal()?, new).await?,
        ))
    }

    /// Changes a draft.
    #[graphql(guard = "RoleGuard::at_least(Role::Sales)")]
    async fn update_quote(
        &self,
        ctx: &Context<'_>,
        id: ID,
        input: UpdateQuoteInput,
    ) -> GqlResult<QuoteNode> {
        let id = parse_id(&id, "id")?;
        let (currency, exponent) = currency_of(input.currency.as_deref())?;
        let changes = QuoteChanges {
            contact_id: patch_id(input.contact_id, "contactId")?,
            company_id: patch_id(input.company_id, "companyId")?,
            opportunity_id: patch_id(input.opportunity_id, "opportunityId")?,
            currency,
            prices_include_tax: input.prices_include_tax,
            valid_until: Patch::from_graphql(input.valid_until),
            notes: patch_text(input.notes, "notes", MAX_TEXT)?,
            terms: patch_text(input.terms, "terms", MAX_TEXT)?,
            discount: Patch::from_graphql(input.discount)
                .try_map(|d| d.parse("discount", exponent))?,
            lines: input
                .lines
                .map(|lines| parse_lines(lines, exponent))
                .transpose()?,
        };
        Ok(QuoteNode(
            quotes::update(ctx.conn().await?, ctx.principal()?, id, changes).await?,
        ))
    }

    /// Deletes a draft never sent.
    #[graphql(guard = "RoleGuard::at_least(Role::Sales)")]
    async fn delete_quote(&self, ctx: &Context<'_>, id: ID) -> GqlResult<ID> {
        let uuid = parse_id(&id, "id")?;
        quotes::delete(ctx.conn().await?, ctx.principal()?, uuid).await?;
        Ok(id)
    }

    /// Sends a draft: numbers it, freezes it and mints its public link.
    #[graphql(guard = "RoleGuard::at_least(Role::Sales)")]
    async fn send_quote(&self, ctx: &Context<'_>, id: ID) -> GqlResult<SentQuote> {
        let id = parse_id(&id, "id")?;
        let sent = quotes::send(ctx.conn().await?, ctx.principal()?, id).await?;
        if let Some(expires_at) = sent.quote.expires_at {
            jobs::schedule::<ExpireQuote>(ctx.app()?, ctx.tenant_tx()?, &sent.quote.id, expires_at)
                .await?;
        }
        Ok(SentQuote {
            quote: QuoteNode(sent.quote),
            public_path: format!("/q/{}", sent.token),
        })
    }

    /// Starts a new draft revision of a sent, expired or rejected quote, superseding it.
    #[graphql(guard = "RoleGuard::at_least(Role::Sales)")]
    async fn revise_quote(&self, ctx: &Context<'_>, id: ID) -> GqlResult<QuoteNode> {
        let id = parse_id(&id, "id")?;
        Ok(QuoteNode(
            quotes::revise(ctx.conn().await?, ctx.principal()?, id).await?,
        ))
    }

    #[graphql(guard = "RoleGuard::at_least(Role::Sales)")]
    async fn cancel_quote(&self, ctx: &Context<'_>, id: ID) -> GqlResult<QuoteNode> {
        let id = parse_id(&id, "id")?;
        Ok(QuoteNode(
            quotes::cancel(ctx.conn().await?, ctx.principal()?, id).await?,
        ))
    }

    /// Records the client's acceptance given outside the public link (on paper, by
    /// phone); wins the quote's opportunity.
    #[graphql(guard = "RoleGuard::at_least(Role::Sales)")]
    async fn accept_quote(
        &self,
        ctx: &Context<'_>,
        id: ID,
        input: AcceptQuoteInput,
    ) -> GqlResult<QuoteNode> {
        let decision = Decision::Accept {
            name: required_text(&input.name, "name", 200)?,
        };
        record_decision(ctx, &id, decision).await
    }

    /// Records the client's rejection given outside the public link.
    #[graphql(guard = "RoleGuard::at_least(Role::Sales)")]
    async fn reject_quote(
        &self,
        ctx: &Context<'_>,
        id: ID,
        #[graphql(default)] input: RejectQuoteInput,
    ) -> GqlResult<QuoteNode> {
        let decision = Decision::Reject {
            reason: optional_text(input.reason.as_deref(), "reason", 2_000)?,
        };
        record_decision(ctx, &id, decision).await
    }
}

/// A decision the client gave outside the link, recorded by the signed-in user.
async fn record_decision(ctx: &Context<'_>, id: &ID, decision: Decision) -> GqlResult<QuoteNode> {
    let id = parse_id(id, "id")?;
    let by = DecidedBy {
        actor: ctx.principal()?,
        via_link: false,
        ip: None,
        user_agent: None,
    };
    Ok(QuoteNode(
        quotes::decide(ctx.conn().await?, by, id, decision).await?,
    ))
}
