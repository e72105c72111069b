"""indexes for the weekly digest's time windows

Revision ID: 0002
Revises: 0001
"""
from alembic import op


revision = '0002'
down_revision = '0001'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_index('ix_messages_received_at', 'messages', ['received_at'])
    op.create_index('ix_messages_sent_date', 'messages', ['sent_date'])
    op.create_index('ix_events_created_at', 'events', ['created_at'])


def downgrade() -> None:
    op.drop_index('ix_events_created_at', table_name='events')
    op.drop_index('ix_messages_sent_date', table_name='messages')
    op.drop_index('ix_messages_received_at', table_name='messages')
