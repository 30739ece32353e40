"""The domain's error hierarchy.

    BillingError                 a business rule rejected the request
    ├── UnauthenticatedError     no valid sign-in token
    ├── ForbiddenError           signed in, but the role or API key scope does not allow it
    ├── NotFoundError            missing, or owned by someone else
    ├── InvalidAmountError       zero, negative or malformed amount
    ├── AmountExceedsBalanceError
    ├── IdempotencyKeyReusedError
    ├── InvalidCardError
    ├── InvalidBankAccountError
    ├── EmailTakenError
    ├── InvalidCredentialsError
    ├── WeakPasswordError
    ├── InvalidEmailError
    ├── RateLimitedError         too many sign-in attempts; retry later
    ├── RefundExceedsPaymentError
    ├── PaymentNotRefundableError
    └── InvalidInputError        other malformed input
    ProcessorError               the payment processor failed or was unreachable

Every ``BillingError`` carries a stable ``code`` that clients switch on, the
input ``field`` it concerns and a message that says what to do. The schema
turns them into ``userErrors``; a request that raises one writes nothing.
"""

from __future__ import annotations


class BillingError(Exception):
    code = "BILLING_ERROR"

    def __init__(self, message: str, *, field: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.field = field


class UnauthenticatedError(BillingError):
    """Raised when an operation needs a signed-in patient and the token is missing or invalid."""

    code = "UNAUTHENTICATED"

    def __init__(self, message: str = "Sign in to continue.", *, field: str | None = None) -> None:
        super().__init__(message, field=field)


class ForbiddenError(BillingError):
    """Raised when the principal is known but may not do this, e.g. an API key without a scope."""

    code = "FORBIDDEN"

    def __init__(self, message: str, *, scope: str | None = None, field: str | None = None) -> None:
        super().__init__(message, field=field)
        # The API key scope that would allow it, if a scope would.
        self.scope = scope


class NotFoundError(BillingError):
    """Raised for an ID that does not exist or belongs to another patient.

    Both cases read the same, so a caller cannot learn that an object exists.
    """

    code = "NOT_FOUND"


class InvalidAmountError(BillingError):
    """Raised when an amount is zero, negative or otherwise unusable."""

    code = "INVALID_AMOUNT"


class AmountExceedsBalanceError(BillingError):
    """Raised when a payment is larger than what the patient owes."""

    code = "AMOUNT_EXCEEDS_BALANCE"


class IdempotencyKeyReusedError(BillingError):
    """Raised when an idempotency key already paid for a different request."""

    code = "IDEMPOTENCY_KEY_REUSED"


class InvalidCardError(BillingError):
    """Raised when card details are malformed, expired or rejected at tokenization."""

    code = "INVALID_CARD"


class InvalidBankAccountError(BillingError):
    """Raised when a routing or account number is malformed or rejected at tokenization."""

    code = "INVALID_BANK_ACCOUNT"


class EmailTakenError(BillingError):
    """Raised at sign-up when the email already has an account."""

    code = "EMAIL_TAKEN"


class InvalidCredentialsError(BillingError):
    """Raised at sign-in when the email or password is wrong; the message never reveals which."""

    code = "INVALID_CREDENTIALS"


class WeakPasswordError(BillingError):
    """Raised at sign-up when the password is too short or too easy to guess."""

    code = "WEAK_PASSWORD"


class InvalidEmailError(BillingError):
    """Raised at sign-up when the email address is malformed."""

    code = "INVALID_EMAIL"


class RateLimitedError(BillingError):
    """Raised when sign-in attempts for an email or from an address exceed the limit."""

    code = "RATE_LIMITED"

    def __init__(self, message: str, *, retry_after_seconds: int, field: str | None = None) -> None:
        super().__init__(message, field=field)
        self.retry_after_seconds = retry_after_seconds


class RefundExceedsPaymentError(BillingError):
    """Raised when a refund requests more than was captured less earlier refunds."""

    code = "REFUND_EXCEEDS_PAYMENT"


class PaymentNotRefundableError(BillingError):
    """Raised when a refund targets a payment that has not succeeded (or is fully refunded)."""

    code = "PAYMENT_NOT_REFUNDABLE"


class InvalidInputError(BillingError):
    """Raised for other malformed input, such as an over-long idempotency key."""

    code = "INVALID_INPUT"


class ProcessorError(Exception):
    """Raised by a payment processor adapter when the processor fails or cannot be reached.

    Adapters convert their client library's exceptions into this one, chained
    with ``from``, so nothing above them depends on a processor's SDK.
    """

    def __init__(self, message: str, *, retryable: bool = False) -> None:
        super().__init__(message)
        self.retryable = retryable
