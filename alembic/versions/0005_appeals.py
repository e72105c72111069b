"""appeals: one row per administrative appeal, with the law's window and the body's due date

Revision ID: 0005_appeals
Revises: 0004_attachment_text
"""
from alembic import op
import sqlalchemy as sa


revision = '0005_appeals'
down_revision = '0004_attachment_text'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('appeals',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('request_id', sa.Integer(), nullable=False),
    sa.Column('decision_message_row_id', sa.Integer(), nullable=True),
    sa.Column('decision_kind', sa.String(length=20), nullable=False),
    sa.Column('decision_date', sa.Date(), nullable=False),
    sa.Column('window_closes', sa.Date(), nullable=True),
    sa.Column('state', sa.String(length=16), nullable=False),
    sa.Column('reminded_on', sa.Date(), nullable=True),
    sa.Column('filed_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('outbox_id', sa.Integer(), nullable=True),
    sa.Column('message_id', sa.String(length=500), nullable=True),
    sa.Column('body_due', sa.Date(), nullable=True),
    sa.Column('followups_sent', sa.Integer(), nullable=False),
    sa.Column('last_followup_on', sa.Date(), nullable=True),
    sa.Column('outcome', sa.String(length=32), nullable=True),
    sa.Column('answer_message_row_id', sa.Integer(), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), server_default=sa.text('(CURRENT_TIMESTAMP)'), nullable=False),
    sa.ForeignKeyConstraint(['answer_message_row_id'], ['messages.id'], name=op.f('fk_appeals_answer_message_row_id_messages')),
    sa.ForeignKeyConstraint(['decision_message_row_id'], ['messages.id'], name=op.f('fk_appeals_decision_message_row_id_messages')),
    sa.ForeignKeyConstraint(['outbox_id'], ['outbox.id'], name=op.f('fk_appeals_outbox_id_outbox')),
    sa.ForeignKeyConstraint(['request_id'], ['requests.id'], name=op.f('fk_appeals_request_id_requests')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_appeals'))
    )
    with op.batch_alter_table('appeals', schema=None) as batch_op:
        batch_op.create_index('ix_appeals_state_dates', ['state', 'window_closes', 'body_due'], unique=False)
        batch_op.create_index(batch_op.f('ix_appeals_request_id'), ['request_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_appeals_state'), ['state'], unique=False)


def downgrade() -> None:
    with op.batch_alter_table('appeals', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_appeals_state'))
        batch_op.drop_index(batch_op.f('ix_appeals_request_id'))
        batch_op.drop_index('ix_appeals_state_dates')
    op.drop_table('appeals')
