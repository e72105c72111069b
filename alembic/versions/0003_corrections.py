"""operator corrections: every confirm and relabel in review, kept as a labelled example

Revision ID: 0003_corrections
Revises: 0002
"""
from alembic import op
import sqlalchemy as sa


revision = '0003_corrections'
down_revision = '0002'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('corrections',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('message_row_id', sa.Integer(), nullable=True),
    sa.Column('agency_id', sa.Integer(), nullable=True),
    sa.Column('sender_domain', sa.String(length=255), nullable=False),
    sa.Column('text', sa.Text(), nullable=False),
    sa.Column('label', sa.String(length=32), nullable=False),
    sa.Column('previous_label', sa.String(length=32), nullable=True),
    sa.Column('previous_confidence', sa.Float(), nullable=True),
    sa.Column('action', sa.String(length=16), nullable=False),
    sa.Column('operator', sa.String(length=200), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), server_default=sa.text('(CURRENT_TIMESTAMP)'), nullable=False),
    sa.ForeignKeyConstraint(['agency_id'], ['agencies.id'], name=op.f('fk_corrections_agency_id_agencies')),
    sa.ForeignKeyConstraint(['message_row_id'], ['messages.id'], name=op.f('fk_corrections_message_row_id_messages')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_corrections'))
    )
    with op.batch_alter_table('corrections', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_corrections_agency_id'), ['agency_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_corrections_message_row_id'), ['message_row_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_corrections_sender_domain'), ['sender_domain'], unique=False)


def downgrade() -> None:
    with op.batch_alter_table('corrections', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_corrections_sender_domain'))
        batch_op.drop_index(batch_op.f('ix_corrections_message_row_id'))
        batch_op.drop_index(batch_op.f('ix_corrections_agency_id'))
    op.drop_table('corrections')
