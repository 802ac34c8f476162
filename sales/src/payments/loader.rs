//! Payments' dataloaders.

use entity::tenant::payment;
use platform::by_id;

by_id!(PaymentById, payment);
