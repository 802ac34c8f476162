//! Sales' figures: for dashboards, what was quoted, invoiced and collected in a range and
//! what clients owe now, per currency; for reports, revenue by month, how quotes fare and
//! how late receivables are, each one statement.

use chrono::{DateTime, NaiveDate, Utc};
use entity::tenant::{invoice, payment, quote};
pub mod schema;

use platform::{db::sql::Sql, error::AppResult};
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

/// One month's revenue in one currency, in minor units.
#[derive(Clone, Debug, PartialEq, Eq, FromQueryResult)]
pub struct MonthRevenue {
    /// `YYYY-MM`.
    pub month: String,
    pub currency: String,
    /// Issued invoices dated in the month, before credit notes.
    pub invoiced: i64,
    /// Payments received in the month, refunds taken off.
    pub collected: i64,
}

/// Revenue invoiced and collected by month and currency, between two days inclusive: one
/// statement.
pub async fn revenue_by_month<C: ConnectionTrait>(
    conn: &C,
    from: NaiveDate,
    to: NaiveDate,
) -> AppResult<Vec<MonthRevenue>> {
    let mut sql = Sql::on(conn);
    let invoice_month = sql.month_of("issue_date");
    let payment_month = sql.month_of("received_on");
    let (issued, invoices_from, invoices_to) = (
        sql.bind(DocumentStatus::Issued.as_str()),
        sql.bind(from),
        sql.bind(to),
    );
    let (payments_from, payments_to) = (sql.bind(from), sql.bind(to));
    let text = format!(
        "SELECT month, currency, CAST(SUM(invoiced) AS BIGINT) AS invoiced,
                CAST(SUM(collected) AS BIGINT) AS collected
         FROM (
           SELECT {invoice_month} AS month, currency, total_minor AS invoiced, 0 AS collected
           FROM invoices
           WHERE status = {issued} AND issue_date >= {invoices_from} AND issue_date <= {invoices_to}
           UNION ALL
           SELECT {payment_month}, currency, 0, amount_minor
           FROM payments
           WHERE received_on >= {payments_from} AND received_on <= {payments_to}
         ) revenue
         GROUP BY month, currency
         ORDER BY month, currency"
    );
    Ok(MonthRevenue::find_by_statement(sql.statement(text))
        .all(conn)
        .await?)
}

/// How sent quotes fared: each quote once (a superseded revision does not count).
#[derive(Clone, Debug, PartialEq, FromQueryResult)]
pub struct QuoteAcceptance {
    pub sent: i64,
    pub accepted: i64,
    pub rejected: i64,
    /// From sending to acceptance, over the accepted ones.
    pub average_days_to_accept: Option<f64>,
}

/// Quotes sent in `[from, to)`: one statement.
pub async fn quote_acceptance<C: ConnectionTrait>(
    conn: &C,
    from: DateTime<Utc>,
    to: DateTime<Utc>,
) -> AppResult<QuoteAcceptance> {
    let mut sql = Sql::on(conn);
    let days = sql.days_between("sent_at", "decided_at");
    // Bound in the order the text names them: SQLite's placeholders are positional.
    let accepted = sql.bind(QuoteStatus::Accepted.as_str());
    let rejected = sql.bind(QuoteStatus::Rejected.as_str());
    let accepted_again = sql.bind(QuoteStatus::Accepted.as_str());
    let superseded = sql.bind(QuoteStatus::Superseded.as_str());
    let (start, end) = (sql.bind(from), sql.bind(to));
    let text = format!(
        "SELECT CAST(COUNT(*) AS BIGINT) AS sent,
                CAST(COALESCE(SUM(CASE WHEN status = {accepted} THEN 1 ELSE 0 END), 0) AS BIGINT) AS accepted,
                CAST(COALESCE(SUM(CASE WHEN status = {rejected} THEN 1 ELSE 0 END), 0) AS BIGINT) AS rejected,
                CAST(AVG(CASE WHEN status = {accepted_again} THEN {days} END) AS DOUBLE PRECISION)
                  AS average_days_to_accept
         FROM quotes
         WHERE sent_at IS NOT NULL AND status <> {superseded} AND sent_at >= {start} AND sent_at < {end}"
    );
    QuoteAcceptance::find_by_statement(sql.statement(text))
        .one(conn)
        .await?
        .ok_or_else(|| platform::error::AppError::internal("an aggregate returned no row"))
}

/// What issued invoices still have due in one currency, by how late it is as of a day.
#[derive(Clone, Debug, PartialEq, Eq, FromQueryResult)]
pub struct Ageing {
    pub currency: String,
    /// Not yet due.
    pub not_due: i64,
    /// 0 to 30 days past the due date.
    pub days_0_30: i64,
    pub days_31_60: i64,
    pub days_61_90: i64,
    /// More than 90 days past.
    pub over_90: i64,
}

/// Receivables ageing as of `today`: one statement.
pub async fn receivables_ageing<C: ConnectionTrait>(
    conn: &C,
    today: NaiveDate,
) -> AppResult<Vec<Ageing>> {
    let mut sql = Sql::on(conn);
    let late = sql.days_until("due_date", today);
    let issued = sql.bind(DocumentStatus::Issued.as_str());
    let bucket = |name: &str, condition: &str| {
        format!(
            "CAST(COALESCE(SUM(CASE WHEN {condition} THEN due ELSE 0 END), 0) AS BIGINT) AS {name}"
        )
    };
    let text = format!(
        "SELECT currency, {}, {}, {}, {}, {}
         FROM (
           SELECT currency, total_minor - credited_minor - paid_minor AS due, {late} AS late
           FROM invoices
           WHERE status = {issued} AND total_minor - credited_minor - paid_minor > 0
         ) owed
         GROUP BY currency
         ORDER BY currency",
        bucket("not_due", "late < 0"),
        bucket("days_0_30", "late BETWEEN 0 AND 30"),
        bucket("days_31_60", "late BETWEEN 31 AND 60"),
        bucket("days_61_90", "late BETWEEN 61 AND 90"),
        bucket("over_90", "late > 90"),
    );
    Ok(Ageing::find_by_statement(sql.statement(text))
        .all(conn)
        .await?)
}
