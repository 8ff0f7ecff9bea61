//! The per-client retry budget: a token bucket that stops retry storms.

use std::sync::Mutex;

/// How the retry budget is sized and charged.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct BudgetConfig {
    /// Tokens in a full bucket.
    pub capacity: u32,
    /// Tokens a retry costs.
    pub retry_cost: u32,
    /// Tokens a retry after a timeout or a broken connection costs.
    pub transient_retry_cost: u32,
    /// Tokens a first-attempt success puts back.
    pub success_deposit: u32,
}

impl Default for BudgetConfig {
    /// 500 tokens, 5 per retry, 10 per retry after a timeout, 1 back per clean success: an
    /// outage allows about 100 retries before calls fail fast, and traffic refills it.
    fn default() -> Self {
        Self {
            capacity: 500,
            retry_cost: 5,
            transient_retry_cost: 10,
            success_deposit: 1,
        }
    }
}

/// A token bucket shared by every call of one client: each retry withdraws tokens, each
/// success deposits some back, and an empty bucket means no more retries.
#[derive(Debug)]
pub struct RetryBudget {
    config: BudgetConfig,
    tokens: Mutex<u32>,
}

impl RetryBudget {
    /// A full bucket.
    pub fn new(config: BudgetConfig) -> Self {
        Self {
            config,
            tokens: Mutex::new(config.capacity),
        }
    }

    /// The configuration.
    pub fn config(&self) -> BudgetConfig {
        self.config
    }

    /// Tokens left.
    pub fn available(&self) -> u32 {
        *self.lock()
    }

    /// Withdraws `cost` tokens if there are enough; returns whether it did.
    pub fn try_withdraw(&self, cost: u32) -> bool {
        let mut tokens = self.lock();
        if *tokens >= cost {
            *tokens -= cost;
            true
        } else {
            false
        }
    }

    /// Puts `amount` tokens back, up to the capacity.
    pub fn deposit(&self, amount: u32) {
        let mut tokens = self.lock();
        *tokens = tokens.saturating_add(amount).min(self.config.capacity);
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, u32> {
        // A poisoned lock still holds a valid count.
        self.tokens
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn withdraw_until_empty_then_refill() {
        let budget = RetryBudget::new(BudgetConfig {
            capacity: 12,
            ..BudgetConfig::default()
        });
        assert!(budget.try_withdraw(5));
        assert!(budget.try_withdraw(5));
        assert!(!budget.try_withdraw(5));
        assert_eq!(budget.available(), 2);
        budget.deposit(100);
        assert_eq!(budget.available(), 12);
    }
}
