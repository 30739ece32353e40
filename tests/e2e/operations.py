"""GraphQL operations shared by the helpers and several end-to-end suites."""

from __future__ import annotations

PAYMENT_FIELDS = """
fragment PaymentFields on Payment {
  id
  status
  methodType
  confirmationNumber
  statementDescriptor
  failureCode
  failureReason
  expectedSettlementOn
  settledAt
  amount { cents currency }
  credited { cents }
  method { id methodType brand last4 funding bankName }
  allocations { amount { cents } invoice { id number } }
}
"""

SIGN_UP = """
mutation SignUp($input: SignUpInput!) {
  signUp(input: $input) {
    token
    patient { id email name }
    userErrors { field code message }
  }
}
"""

LOG_IN = """
mutation LogIn($input: LogInInput!) {
  logIn(input: $input) {
    token
    patient { id email }
    userErrors { field code message }
  }
}
"""

LOG_OUT = """
mutation LogOut {
  logOut {
    loggedOut
    userErrors { field code message }
  }
}
"""

ME = """
query Me {
  me { id email name }
}
"""

ADD_PAYMENT_METHOD = """
mutation AddPaymentMethod($input: AddPaymentMethodInput!) {
  addPaymentMethod(input: $input) {
    paymentMethod { id methodType brand last4 funding bankName expMonth expYear }
    userErrors { field code message }
  }
}
"""

PAY_BILL = (
    """
mutation PayBill($input: PayBillInput!) {
  payBill(input: $input) {
    payment { ...PaymentFields }
    userErrors { field code message }
  }
}
"""
    + PAYMENT_FIELDS
)

PAYMENT = (
    """
query Payment($id: ID!) {
  node(id: $id) {
    ... on Payment { ...PaymentFields }
  }
}
"""
    + PAYMENT_FIELDS
)

ACCOUNT_SUMMARY = """
query AccountSummary {
  me {
    balance { cents }
    payments(first: 100) { edges { node { id status } } }
    paymentMethods { id }
    invoices(first: 100) { edges { node { id amountDue { cents } amountPending { cents } } } }
  }
}
"""

PAYMENT_STATUS_CHANGED = """
subscription PaymentStatusChanged($paymentId: ID!) {
  paymentStatusChanged(paymentId: $paymentId) {
    sequence
    status
    message
    occurredAt
    paymentId
  }
}
"""
