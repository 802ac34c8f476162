//! Sales' figures for dashboards: what was quoted, invoiced and collected in a range, and
//! what clients owe now, per currency.

use chrono::{DateTime, NaiveDate, Utc};
use entity::tenant::{invoice, payment, quote};
use platform::error::AppResult;
use sea_orm::{
    ColumnTrait, ConnectionTrait, EntityTrait, FromQueryResult, QueryFilter, QuerySelect, Select,
    sea_query::{Expr, ExprTrait},
};

use crate::types::{DocumentStatus, QuoteStatus};

/// Amounts per currency, in minor units.
pub type Amounts = Vec<(String, i64)>;

#[derive(Clone, Debug, Default, PartialEq)]
pub struct SalesFigures {
    /// Quotes sent in the range (each quote once: a superseded revision does not count).
    pub quoted: Amounts,
    /// Invoices dated in the range, before credit notes.
    pub invoiced: Amounts,
    /// Payments received in the range, refunds taken off.
    pub collected: Amounts,
    /// What issued invoices still have due.
    pub receivables: Amounts,
    /// The part of it past its due date.
    pub overdue: Amounts,
}

#[derive(FromQueryResult)]
struct CurrencySum {
    currency: String,
    amount: i64,
}

async fn sums<E: EntityTrait, C: ConnectionTrait>(
    conn: &C,
    select: Select<E>,
    currency: E::Column,
    amount: &str,
) -> AppResult<Amounts> {
    Ok(select
        .select_only()
        .column(currency)
        .column_as(
            Expr::cust(format!("CAST(SUM({amount}) AS BIGINT)")),
            "amount",
        )
        .group_by(currency)
        .into_model::<CurrencySum>()
        .all(conn)
        .await?
        .into_iter()
        .map(|row| (row.currency, row.amount))
        .collect())
}

/// The figures from `from` until now; "overdue" as of `today` where the tenant is.
pub async fn compute<C: ConnectionTrait>(
    conn: &C,
    from: DateTime<Utc>,
    today: NaiveDate,
) -> AppResult<SalesFigures> {
    let quoted = quote::Entity::find()
        .filter(quote::Column::SentAt.gte(from))
        .filter(quote::Column::Status.ne(QuoteStatus::Superseded.as_str()));
    let invoiced = invoice::Entity::find()
        .filter(invoice::Column::Status.eq(DocumentStatus::Issued.as_str()))
        .filter(invoice::Column::IssueDate.gte(from.date_naive()));
    let collected =
        payment::Entity::find().filter(payment::Column::ReceivedOn.gte(from.date_naive()));
    let due = "total_minor - credited_minor - paid_minor";
    let owing = || {
        invoice::Entity::find()
            .filter(invoice::Column::Status.eq(DocumentStatus::Issued.as_str()))
            .filter(Expr::cust(due).gt(0))
    };
    Ok(SalesFigures {
        quoted: sums(conn, quoted, quote::Column::Currency, "total_minor").await?,
        invoiced: sums(conn, invoiced, invoice::Column::Currency, "total_minor").await?,
        collected: sums(conn, collected, payment::Column::Currency, "amount_minor").await?,
        receivables: sums(conn, owing(), invoice::Column::Currency, due).await?,
        overdue: sums(
            conn,
            owing().filter(invoice::Column::DueDate.lt(today)),
            invoice::Column::Currency,
            due,
        )
        .await?,
    })
}
