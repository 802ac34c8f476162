//! The money engine: the one function that computes a document's totals, for the API, the
//! PDF and payments alike.
//!
//! Amounts are integer minor units of the document's currency; quantities, prices, rates and
//! discounts are exact decimals, rounded to minor units only where the rules below say:
//!
//! - a line's net is `round(quantity x unit price - line discount)`;
//! - a document discount is allocated to the lines by largest remainder, in proportion to
//!   their nets, so that the lines' bases still add up to the document's;
//! - a line whose product is a bundle is split over its parts (each with its own tax rate) by
//!   list-price weight, again by largest remainder;
//! - tax is computed per tax group (EN 16931 BR-CO-17): `round(sum of the group's bases x
//!   rate)`, or per line when the tenant chose so;
//! - with tax-inclusive prices a group's base is `round(gross / (1 + rate))` and its tax the
//!   rest of the gross.

use rust_decimal::{Decimal, RoundingStrategy, prelude::ToPrimitive};
use serde::{Deserialize, Serialize};

use crate::types::{RoundingMode, TaxKind, TaxRounding};

/// A tax rate as a document keeps it: copied when the line is written, so that a later
/// change to the tenant's rates never changes a document.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct TaxSnapshot {
    /// The tenant's rate it was copied from; none for a line without tax.
    pub id: Option<uuid::Uuid>,
    pub name: String,
    pub kind: TaxKind,
    /// Percent: `21` is 21%.
    pub percentage: Decimal,
}

impl TaxSnapshot {
    /// What a line without a tax rate is taxed at.
    pub fn none() -> Self {
        Self {
            id: None,
            name: "No tax".to_owned(),
            kind: TaxKind::OutsideScope,
            percentage: Decimal::ZERO,
        }
    }

    /// Lines with the same kind and rate are one tax group.
    fn group_key(&self) -> (TaxKind, Decimal) {
        (self.kind, self.percentage.normalize())
    }
}

/// A discount on a line or on the whole document.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub enum Discount {
    /// Percent of the amount: `10` is 10%.
    Percent(Decimal),
    /// An amount in major units of the document's currency.
    Amount(Decimal),
}

/// One part of a line: all of it for a plain line, a bundle's component for a bundle's line.
#[derive(Clone, Debug, PartialEq)]
pub struct LinePart {
    pub tax: TaxSnapshot,
    /// The part's share of the line, in any unit (a component's list price in minor units).
    pub weight: i64,
}

#[derive(Clone, Debug, PartialEq)]
pub struct Line {
    pub quantity: Decimal,
    pub unit_price: Decimal,
    pub discount: Option<Discount>,
    /// At least one.
    pub parts: Vec<LinePart>,
}

#[derive(Clone, Debug, PartialEq)]
pub struct Document {
    /// The currency's ISO 4217 exponent: 0, 2 or 3.
    pub exponent: u32,
    pub prices_include_tax: bool,
    pub rounding: RoundingMode,
    pub tax_rounding: TaxRounding,
    pub lines: Vec<Line>,
    pub discount: Option<Discount>,
}

/// A line's figures, in minor units.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct LineTotals {
    /// `round(quantity x unit price - line discount)`: tax-inclusive when the document's
    /// prices are.
    pub net: i64,
    /// Its share of the document's discount.
    pub document_discount: i64,
    /// `net - document_discount` split over the line's parts.
    pub parts: Vec<i64>,
}

/// One tax group's figures, in minor units.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct TaxGroup {
    pub tax: TaxSnapshot,
    /// The tax-exclusive amount taxed at this rate.
    pub base: i64,
    pub tax_amount: i64,
}

/// A document's figures, in minor units.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Totals {
    pub lines: Vec<LineTotals>,
    /// The sum of the lines' nets.
    pub subtotal: i64,
    /// The document's discount.
    pub discount: i64,
    /// The sum of the groups' bases: what is taxed.
    pub tax_exclusive: i64,
    /// The sum of the groups' tax.
    pub tax: i64,
    /// `tax_exclusive + tax`: what the client pays.
    pub total: i64,
    /// In the order their rates first appear on the lines.
    pub groups: Vec<TaxGroup>,
}

/// Why a document's totals cannot be computed: each names what to change.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum TotalsError {
    /// An amount does not fit the engine's range.
    TooLarge,
    /// The line's discount is more than its amount.
    LineDiscountTooLarge(usize),
    /// The document's discount is more than its lines.
    DocumentDiscountTooLarge,
    /// A negative quantity, price, rate or discount, or a line without parts.
    Invalid(usize),
}

impl RoundingMode {
    fn strategy(self) -> RoundingStrategy {
        match self {
            Self::HalfAwayFromZero => RoundingStrategy::MidpointAwayFromZero,
            Self::HalfEven => RoundingStrategy::MidpointNearestEven,
            Self::HalfTowardZero => RoundingStrategy::MidpointTowardZero,
        }
    }

    /// `value` rounded to a whole number of minor units.
    pub fn to_minor(self, value: Decimal) -> Result<i64, TotalsError> {
        value
            .round_dp_with_strategy(0, self.strategy())
            .to_i64()
            .ok_or(TotalsError::TooLarge)
    }
}

/// 10^exponent: minor units per major unit.
pub fn minor_per_major(exponent: u32) -> Decimal {
    Decimal::from(10i64.pow(exponent))
}

/// A document's totals. Deterministic: the same document gives the same figures.
pub fn compute(document: &Document) -> Result<Totals, TotalsError> {
    let scale = minor_per_major(document.exponent);
    let round = |value: Decimal| document.rounding.to_minor(value);
    let hundred = Decimal::ONE_HUNDRED;

    let mut nets = Vec::with_capacity(document.lines.len());
    for (index, line) in document.lines.iter().enumerate() {
        let negative = line.quantity.is_sign_negative() && !line.quantity.is_zero()
            || line.unit_price.is_sign_negative() && !line.unit_price.is_zero();
        if negative || line.parts.is_empty() || line.parts.iter().any(|p| p.weight < 0) {
            return Err(TotalsError::Invalid(index));
        }
        let gross = mul(line.quantity, line.unit_price)?;
        let discount = match line.discount {
            None => Decimal::ZERO,
            Some(Discount::Percent(percent)) => mul(gross, percent)? / hundred,
            Some(Discount::Amount(amount)) => amount,
        };
        if discount.is_sign_negative() && !discount.is_zero() {
            return Err(TotalsError::Invalid(index));
        }
        if discount > gross {
            return Err(TotalsError::LineDiscountTooLarge(index));
        }
        nets.push(round(mul(gross - discount, scale)?)?);
    }
    let subtotal = sum(nets.iter().copied())?;

    let discount = match document.discount {
        None => 0,
        Some(Discount::Percent(percent)) => {
            round(mul(Decimal::from(subtotal), percent)? / hundred)?
        }
        Some(Discount::Amount(amount)) => round(mul(amount, scale)?)?,
    };
    if discount < 0 {
        return Err(TotalsError::Invalid(0));
    }
    if discount > subtotal {
        return Err(TotalsError::DocumentDiscountTooLarge);
    }
    let shares = allocate(discount, &nets);

    let mut lines = Vec::with_capacity(nets.len());
    let mut groups: Vec<Group> = Vec::new();
    for ((line, net), share) in document.lines.iter().zip(&nets).zip(shares) {
        let weights: Vec<i64> = line.parts.iter().map(|p| p.weight).collect();
        let parts = allocate(net - share, &weights);
        for (part, amount) in line.parts.iter().zip(&parts) {
            let key = part.tax.group_key();
            let index = match groups.iter().position(|g| g.tax.group_key() == key) {
                Some(index) => index,
                None => {
                    groups.push(Group {
                        tax: part.tax.clone(),
                        amount: 0,
                        per_line_base: 0,
                        per_line_tax: 0,
                    });
                    groups.len() - 1
                }
            };
            let group = &mut groups[index];
            let rate = part.tax.percentage / hundred;
            group.amount = add(group.amount, *amount)?;
            if document.tax_rounding == TaxRounding::PerLine {
                let (base, tax) = split(*amount, rate, document.prices_include_tax, &round)?;
                group.per_line_base = add(group.per_line_base, base)?;
                group.per_line_tax = add(group.per_line_tax, tax)?;
            }
        }
        lines.push(LineTotals {
            net: *net,
            document_discount: share,
            parts,
        });
    }

    let mut tax_groups = Vec::with_capacity(groups.len());
    for group in groups {
        if group.tax.percentage.is_sign_negative() && !group.tax.percentage.is_zero() {
            return Err(TotalsError::Invalid(0));
        }
        let (base, tax_amount) = match document.tax_rounding {
            TaxRounding::PerGroup => split(
                group.amount,
                group.tax.percentage / hundred,
                document.prices_include_tax,
                &round,
            )?,
            TaxRounding::PerLine => (group.per_line_base, group.per_line_tax),
        };
        tax_groups.push(TaxGroup {
            tax: group.tax,
            base,
            tax_amount,
        });
    }
    let tax_exclusive = sum(tax_groups.iter().map(|g| g.base))?;
    let tax = sum(tax_groups.iter().map(|g| g.tax_amount))?;
    Ok(Totals {
        lines,
        subtotal,
        discount,
        tax_exclusive,
        tax,
        total: add(tax_exclusive, tax)?,
        groups: tax_groups,
    })
}

struct Group {
    tax: TaxSnapshot,
    /// The sum of its parts' amounts (tax-inclusive when the prices are).
    amount: i64,
    per_line_base: i64,
    per_line_tax: i64,
}

/// An amount taxed at `rate` as (base, tax): the amount is the base when prices exclude tax,
/// the gross when they include it.
fn split(
    amount: i64,
    rate: Decimal,
    inclusive: bool,
    round: &impl Fn(Decimal) -> Result<i64, TotalsError>,
) -> Result<(i64, i64), TotalsError> {
    let amount_dec = Decimal::from(amount);
    if inclusive {
        let base = round(amount_dec / (Decimal::ONE + rate))?;
        Ok((base, amount - base))
    } else {
        Ok((amount, round(mul(amount_dec, rate)?)?))
    }
}

/// `total` split in proportion to `weights` by largest remainder: the shares add up to
/// `total` exactly, each within one minor unit of its exact share, ties to the earlier. All
/// zero weights split it evenly. `total` and the weights are never negative.
pub fn allocate(total: i64, weights: &[i64]) -> Vec<i64> {
    if weights.is_empty() {
        return Vec::new();
    }
    let even;
    let weights = if weights.iter().all(|w| *w == 0) {
        even = vec![1; weights.len()];
        &even
    } else {
        weights
    };
    let whole: i128 = weights.iter().map(|w| i128::from(*w)).sum();
    let total = i128::from(total);
    let mut shares: Vec<i128> = Vec::with_capacity(weights.len());
    let mut remainders: Vec<(i128, usize)> = Vec::with_capacity(weights.len());
    for (index, weight) in weights.iter().enumerate() {
        let exact = total * i128::from(*weight);
        shares.push(exact / whole);
        remainders.push((exact % whole, index));
    }
    let left = total - shares.iter().sum::<i128>();
    // Largest remainder first; among equal remainders, the earlier line.
    remainders.sort_by(|a, b| b.0.cmp(&a.0).then(a.1.cmp(&b.1)));
    for (_, index) in remainders.into_iter().take(left as usize) {
        shares[index] += 1;
    }
    // Each share is at most `total`, which came from an i64.
    shares.into_iter().map(|s| s as i64).collect()
}

fn mul(a: Decimal, b: Decimal) -> Result<Decimal, TotalsError> {
    a.checked_mul(b).ok_or(TotalsError::TooLarge)
}

fn add(a: i64, b: i64) -> Result<i64, TotalsError> {
    a.checked_add(b).ok_or(TotalsError::TooLarge)
}

fn sum(values: impl Iterator<Item = i64>) -> Result<i64, TotalsError> {
    values.into_iter().try_fold(0i64, add)
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn rate(name: &str, percentage: i64, scale: u32) -> TaxSnapshot {
        TaxSnapshot {
            id: None,
            name: name.to_owned(),
            kind: TaxKind::Standard,
            percentage: Decimal::new(percentage, scale),
        }
    }

    fn line(quantity: Decimal, unit_price: Decimal, tax: &TaxSnapshot) -> Line {
        Line {
            quantity,
            unit_price,
            discount: None,
            parts: vec![LinePart {
                tax: tax.clone(),
                weight: 1,
            }],
        }
    }

    fn document(lines: Vec<Line>) -> Document {
        Document {
            exponent: 2,
            prices_include_tax: false,
            rounding: RoundingMode::HalfAwayFromZero,
            tax_rounding: TaxRounding::PerGroup,
            lines,
            discount: None,
        }
    }

    #[test]
    fn tax_per_group_rounds_once() {
        // Three lines of 0.05 at 10%: per group 0.15 x 10% = 0.015 -> 0.02; per line each
        // 0.005 -> 0.01, three of them 0.03.
        let vat = rate("VAT", 10, 0);
        let lines = vec![line(Decimal::ONE, Decimal::new(5, 2), &vat); 3];
        let per_group = compute(&document(lines.clone())).expect("computes");
        assert_eq!((per_group.tax, per_group.total), (2, 17));
        let mut per_line = document(lines);
        per_line.tax_rounding = TaxRounding::PerLine;
        let per_line = compute(&per_line).expect("computes");
        assert_eq!((per_line.tax, per_line.total), (3, 18));
    }

    #[test]
    fn rounding_modes_at_the_midpoint() {
        let vat = rate("VAT", 0, 0);
        // 2.5 minor units.
        let lines = vec![line(Decimal::ONE, Decimal::new(25, 3), &vat)];
        let mut doc = document(lines);
        for (mode, expected) in [
            (RoundingMode::HalfAwayFromZero, 3),
            (RoundingMode::HalfEven, 2),
            (RoundingMode::HalfTowardZero, 2),
        ] {
            doc.rounding = mode;
            assert_eq!(compute(&doc).expect("computes").subtotal, expected);
        }
    }

    #[test]
    fn document_discount_by_largest_remainder() {
        let vat = rate("VAT", 20, 0);
        let lines = vec![line(Decimal::ONE, Decimal::ONE, &vat); 3];
        let mut doc = document(lines);
        doc.discount = Some(Discount::Amount(Decimal::ONE));
        let totals = compute(&doc).expect("computes");
        let shares: Vec<i64> = totals.lines.iter().map(|l| l.document_discount).collect();
        assert_eq!(shares, vec![34, 33, 33]);
        assert_eq!(
            (totals.tax_exclusive, totals.tax, totals.total),
            (200, 40, 240)
        );
    }

    #[test]
    fn inclusive_prices_take_the_base_out_of_the_gross() {
        let vat = rate("VAT", 21, 0);
        let mut doc = document(vec![line(Decimal::ONE, Decimal::new(1000, 2), &vat)]);
        doc.prices_include_tax = true;
        let totals = compute(&doc).expect("computes");
        // 10.00 / 1.21 = 8.2644... -> 8.26; tax 1.74.
        assert_eq!(
            (totals.tax_exclusive, totals.tax, totals.total),
            (826, 174, 1000)
        );
    }

    #[test]
    fn bundles_split_by_weight_and_keep_their_rates() {
        let (standard, reduced) = (rate("VAT", 21, 0), rate("Reduced", 10, 0));
        let bundle = Line {
            quantity: Decimal::ONE,
            unit_price: Decimal::new(1000, 2),
            discount: None,
            parts: vec![
                LinePart {
                    tax: standard,
                    weight: 200,
                },
                LinePart {
                    tax: reduced,
                    weight: 100,
                },
            ],
        };
        let totals = compute(&document(vec![bundle])).expect("computes");
        assert_eq!(totals.lines[0].parts, vec![667, 333]);
        assert_eq!(totals.groups.len(), 2);
        assert_eq!(totals.groups[0].tax_amount, 140);
        assert_eq!(totals.groups[1].tax_amount, 33);
    }

    #[test]
    fn refusals_name_what_to_change() {
        let vat = rate("VAT", 20, 0);
        let mut over = line(Decimal::ONE, Decimal::ONE, &vat);
        over.discount = Some(Discount::Amount(Decimal::TWO));
        assert_eq!(
            compute(&document(vec![over])),
            Err(TotalsError::LineDiscountTooLarge(0))
        );
        let mut doc = document(vec![line(Decimal::ONE, Decimal::ONE, &vat)]);
        doc.discount = Some(Discount::Percent(Decimal::new(101, 0)));
        assert_eq!(compute(&doc), Err(TotalsError::DocumentDiscountTooLarge));
        let huge = line(Decimal::MAX, Decimal::TWO, &vat);
        assert_eq!(compute(&document(vec![huge])), Err(TotalsError::TooLarge));
    }

    fn rates() -> impl Strategy<Value = TaxSnapshot> {
        prop_oneof![
            Just(rate("Zero", 0, 0)),
            Just(rate("Reduced", 55, 1)),
            Just(rate("Reduced", 10, 0)),
            Just(rate("Standard", 21, 0)),
            Just(rate("Standard", 19, 0)),
            Just(rate("Odd", 7125, 3)),
        ]
    }

    fn discounts(max_amount: i64, exponent: u32) -> impl Strategy<Value = Option<Discount>> {
        prop_oneof![
            Just(None),
            (0i64..=10_000).prop_map(|p| Some(Discount::Percent(Decimal::new(p, 2)))),
            (0i64..=max_amount)
                .prop_map(move |a| Some(Discount::Amount(Decimal::new(a, exponent)))),
        ]
    }

    fn lines(exponent: u32) -> impl Strategy<Value = Line> {
        (
            1i64..=100_000,
            0i64..=1_000_000_000_000,
            prop::collection::vec((rates(), 0i64..=1_000_000), 1..4),
        )
            .prop_flat_map(move |(quantity, price, parts)| {
                let quantity = Decimal::new(quantity, 2);
                let unit_price = Decimal::new(price, 4);
                // A line discount never above the line.
                let most = (quantity * unit_price * minor_per_major(exponent))
                    .floor()
                    .to_i64()
                    .unwrap_or(0);
                discounts(most, exponent).prop_map(move |discount| Line {
                    quantity,
                    unit_price,
                    discount,
                    parts: parts
                        .iter()
                        .map(|(tax, weight)| LinePart {
                            tax: tax.clone(),
                            weight: *weight,
                        })
                        .collect(),
                })
            })
    }

    fn documents() -> impl Strategy<Value = Document> {
        prop_oneof![Just(0u32), Just(2u32), Just(3u32)].prop_flat_map(|exponent| {
            (
                prop::collection::vec(lines(exponent), 1..12),
                any::<bool>(),
                prop_oneof![
                    Just(RoundingMode::HalfAwayFromZero),
                    Just(RoundingMode::HalfEven),
                    Just(RoundingMode::HalfTowardZero),
                ],
                prop_oneof![Just(TaxRounding::PerGroup), Just(TaxRounding::PerLine)],
                prop_oneof![
                    Just(None),
                    (0i64..=10_000).prop_map(|p| Some(Discount::Percent(Decimal::new(p, 2)))),
                ],
            )
                .prop_map(
                    move |(lines, prices_include_tax, rounding, tax_rounding, discount)| Document {
                        exponent,
                        prices_include_tax,
                        rounding,
                        tax_rounding,
                        lines,
                        discount,
                    },
                )
        })
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(10_000))]

        #[test]
        fn totals_add_up(doc in documents()) {
            let totals = compute(&doc).expect("a valid document computes");
            let round = |value: Decimal| doc.rounding.to_minor(value).expect("fits");
            let parts: i64 = totals.lines.iter().flat_map(|l| l.parts.iter()).sum();
            let nets: i64 = totals.lines.iter().map(|l| l.net).sum();
            let shares: i64 = totals.lines.iter().map(|l| l.document_discount).sum();
            let bases: i64 = totals.groups.iter().map(|g| g.base).sum();
            let taxes: i64 = totals.groups.iter().map(|g| g.tax_amount).sum();
            prop_assert_eq!(nets, totals.subtotal);
            prop_assert_eq!(shares, totals.discount);
            prop_assert_eq!(parts, totals.subtotal - totals.discount);
            prop_assert_eq!(bases, totals.tax_exclusive);
            prop_assert_eq!(taxes, totals.tax);
            prop_assert_eq!(totals.total, totals.tax_exclusive + totals.tax);
            for (line, figures) in doc.lines.iter().zip(&totals.lines) {
                let gross = line.quantity * line.unit_price;
                let discount = match line.discount {
                    None => Decimal::ZERO,
                    Some(Discount::Percent(p)) => gross * p / Decimal::ONE_HUNDRED,
                    Some(Discount::Amount(a)) => a,
                };
                prop_assert_eq!(figures.net, round((gross - discount) * minor_per_major(doc.exponent)));
                prop_assert!(figures.parts.iter().all(|p| *p >= 0));
            }
            if doc.prices_include_tax {
                // The client pays the prices: the lines' amounts after the discount.
                prop_assert_eq!(totals.total, totals.subtotal - totals.discount);
            } else {
                // The sum of the lines' nets plus the sum of the groups' tax.
                prop_assert_eq!(totals.total, parts + taxes);
            }
            for group in &totals.groups {
                let rate = group.tax.percentage / Decimal::ONE_HUNDRED;
                let amount: i64 = doc.lines.iter().zip(&totals.lines)
                    .flat_map(|(l, f)| l.parts.iter().zip(&f.parts))
                    .filter(|(part, _)| part.tax.group_key() == group.tax.group_key())
                    .map(|(_, amount)| *amount)
                    .sum();
                match (doc.prices_include_tax, doc.tax_rounding) {
                    (false, TaxRounding::PerGroup) => {
                        prop_assert_eq!(group.base, amount);
                        prop_assert_eq!(group.tax_amount, round(Decimal::from(group.base) * rate));
                    }
                    (true, TaxRounding::PerGroup) => {
                        prop_assert_eq!(group.base, round(Decimal::from(amount) / (Decimal::ONE + rate)));
                        prop_assert_eq!(group.base + group.tax_amount, amount);
                    }
                    (false, TaxRounding::PerLine) => prop_assert_eq!(group.base, amount),
                    (true, TaxRounding::PerLine) => {
                        prop_assert_eq!(group.base + group.tax_amount, amount)
                    }
                }
            }
        }

        #[test]
        fn allocation_adds_up_and_stays_within_one_unit(
            total in 0i64..=i64::MAX / 2,
            weights in prop::collection::vec(0i64..=i64::MAX / 4, 1..20),
        ) {
            let shares = allocate(total, &weights);
            prop_assert_eq!(shares.iter().map(|s| i128::from(*s)).sum::<i128>(), i128::from(total));
            let whole: i128 = weights.iter().map(|w| i128::from(*w)).sum();
            if whole > 0 {
                for (share, weight) in shares.iter().zip(&weights) {
                    let exact = i128::from(total) * i128::from(*weight);
                    let floor = exact / whole;
                    prop_assert!(i128::from(*share) == floor || i128::from(*share) == floor + 1);
                }
            }
        }
    }
}
