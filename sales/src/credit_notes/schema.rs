//! Credit notes over GraphQL.

use async_graphql::{Context, ID, InputObject, MaybeUndefined, Object};
use chrono::{DateTime, NaiveDate, Utc};
use entity::tenant::credit_note;
use platform::{
    auth::{Role, RoleGuard},
    domain::Patch,
    error::GqlResult,
    graphql::{ContextExt, load_one},
    parse_id,
};

use crate::{
    credit_notes::{self, NewCreditNote},
    invoices::{loader::InvoiceById, schema::InvoiceNode},
    lines::{
        loader::LinesByCreditNote,
        schema::{DocumentTotals, Figures, LineInput, LineNode, line_nodes, parse_lines},
    },
    shared::{id, optional_text, patch_text, stored_exponent},
    types::{CreditNoteAction, DocumentStatus},
};

#[derive(InputObject)]
pub struct CreateCreditNoteInput {
    pub invoice_id: ID,
    pub reason: Option<String>,
    /// What it credits; left out, every line of the invoice (a full credit).
    pub lines: Option<Vec<LineInput>>,
}

#[derive(InputObject, Default)]
pub struct UpdateCreditNoteInput {
    pub reason: MaybeUndefined<String>,
    /// Replaces every line.
    pub lines: Option<Vec<LineInput>>,
}

pub struct CreditNoteNode(pub credit_note::Model);

/// A correction of an issued invoice.
#[Object(name = "CreditNote")]
impl CreditNoteNode {
    async fn id(&self) -> ID {
        id(self.0.id)
    }
    async fn number(&self) -> Option<&str> {
        self.0.number.as_deref()
    }
    async fn status(&self) -> GqlResult<DocumentStatus> {
        Ok(DocumentStatus::from_stored(&self.0.status)?)
    }
    async fn available_actions(&self) -> GqlResult<Vec<CreditNoteAction>> {
        Ok(credit_notes::available_actions(&self.0)?)
    }
    async fn invoice(&self, ctx: &Context<'_>) -> GqlResult<Option<InvoiceNode>> {
        Ok(load_one::<InvoiceById, _>(ctx, self.0.invoice_id)
            .await?
            .map(InvoiceNode))
    }
    async fn reason(&self) -> Option<&str> {
        self.0.reason.as_deref()
    }
    async fn currency(&self) -> &str {
        &self.0.currency
    }
    async fn issue_date(&self) -> Option<NaiveDate> {
        self.0.issue_date
    }
    #[graphql(complexity = "platform::graphql::complexity::list(200, child_complexity)")]
    async fn lines(&self, ctx: &Context<'_>) -> GqlResult<Vec<LineNode>> {
        let lines = load_one::<LinesByCreditNote, _>(ctx, self.0.id).await?;
        Ok(line_nodes(lines.unwrap_or_default(), &self.0.currency))
    }
    async fn totals(&self) -> GqlResult<DocumentTotals> {
        Figures::from(&self.0).totals()
    }
    async fn issued_at(&self) -> Option<DateTime<Utc>> {
        self.0.issued_at
    }
    async fn created_at(&self) -> DateTime<Utc> {
        self.0.created_at
    }
    async fn updated_at(&self) -> DateTime<Utc> {
        self.0.updated_at
    }
}

#[derive(Default)]
pub struct CreditNotesQuery;

#[Object]
impl CreditNotesQuery {
    #[graphql(guard = "RoleGuard::at_least(Role::Viewer)")]
    async fn credit_note(&self, ctx: &Context<'_>, id: ID) -> GqlResult<CreditNoteNode> {
        let id = parse_id(&id, "id")?;
        Ok(CreditNoteNode(
            credit_notes::find(ctx.conn().await?, id).await?,
        ))
    }
}

#[derive(Default)]
pub struct CreditNotesMutation;

#[Object]
impl CreditNotesMutation {
    /// A draft credit note for an issued invoice.
    #[graphql(guard = "RoleGuard::finance()")]
    async fn create_credit_note(
        &self,
        ctx: &Context<'_>,
        input: CreateCreditNoteInput,
    ) -> GqlResult<CreditNoteNode> {
        let invoice_id = parse_id(&input.invoice_id, "invoiceId")?;
        let conn = ctx.conn().await?;
        let exponent = stored_exponent(&crate::invoices::find(conn, invoice_id).await?.currency)?;
        let new = NewCreditNote {
            invoice_id,
            reason: optional_text(input.reason.as_deref(), "reason", 2_000)?,
            lines: input
                .lines
                .map(|lines| parse_lines(lines, Some(exponent)))
                .transpose()?,
        };
        Ok(CreditNoteNode(
            credit_notes::create(conn, ctx.principal()?, new).await?,
        ))
    }

    #[graphql(guard = "RoleGuard::finance()")]
    async fn update_credit_note(
        &self,
        ctx: &Context<'_>,
        id: ID,
        input: UpdateCreditNoteInput,
    ) -> GqlResult<CreditNoteNode> {
        let id = parse_id(&id, "id")?;
        let conn = ctx.conn().await?;
        let exponent = stored_exponent(&credit_notes::find(conn, id).await?.currency)?;
        let reason: Patch<String> = patch_text(input.reason, "reason", 2_000)?;
        let lines = input
            .lines
            .map(|lines| parse_lines(lines, Some(exponent)))
            .transpose()?;
        Ok(CreditNoteNode(
            credit_notes::update(conn, ctx.principal()?, id, reason, lines).await?,
        ))
    }

    #[graphql(guard = "RoleGuard::finance()")]
    async fn delete_credit_note(&self, ctx: &Context<'_>, id: ID) -> GqlResult<ID> {
        let uuid = parse_id(&id, "id")?;
        credit_notes::delete(ctx.conn().await?, ctx.principal()?, uuid).await?;
        Ok(id)
    }

    /// Issues a draft with the credit note series' next number, crediting its invoice.
    #[graphql(guard = "RoleGuard::finance()")]
    async fn issue_credit_note(&self, ctx: &Context<'_>, id: ID) -> GqlResult<CreditNoteNode> {
        let id = parse_id(&id, "id")?;
        Ok(CreditNoteNode(
            credit_notes::issue(ctx.conn().await?, ctx.principal()?, id).await?,
        ))
    }
}
