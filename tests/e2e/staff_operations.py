"""GraphQL operations of staff dashboards and partner integrations, shared by several suites."""

from __future__ import annotations

STAFF_LOG_IN = """
mutation StaffLogIn($input: LogInInput!) {
  staffLogIn(input: $input) {
    token
    staff { email isAuditor }
    userErrors { field code message }
  }
}
"""

VIEWER = """
query Viewer {
  viewer { role name scopes isAuditor }
}
"""

REFUND_PAYMENT = """
mutation RefundPayment($input: RefundPaymentInput!) {
  refundPayment(input: $input) {
    refund { amount { cents } reason status failureReason createdAt }
    payment {
      id
      status
      amount { cents }
      amountRefunded { cents }
      allocations { amount { cents } invoice { id } }
    }
    userErrors { field code message }
  }
}
"""

PAYMENT_EVENTS = """
subscription PaymentEvents($after: String) {
  paymentEvents(after: $after) {
    cursor
    paymentId
    sequence
    status
    message
    occurredAt
  }
}
"""

# Every stored event of the newest payments, to compare a live stream with.
STORED_PAYMENT_EVENTS = """
query StoredPaymentEvents {
  payments(first: 100) {
    edges { node { id events { cursor sequence status } } }
  }
}
"""

AUDIT_LOG = """
query AuditLog($patientId: ID, $actor: String) {
  auditLog(first: 100, patientId: $patientId, actor: $actor) {
    edges {
      node {
        role
        actor
        operation
        action
        clientAddress
        requestId
        patientId
        paymentId
      }
    }
  }
}
"""
