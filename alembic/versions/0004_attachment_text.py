"""attachment text: what reading each attached file found, and the links fetched from replies

Revision ID: 0004_attachment_text
Revises: 0003_corrections
"""
from alembic import op
import sqlalchemy as sa



revision = '0004_attachment_text'
down_revision = '0003_corrections'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('attachments', schema=None) as batch_op:
        batch_op.add_column(sa.Column('sniffed_type', sa.String(length=100), nullable=True))
        batch_op.add_column(sa.Column('method', sa.String(length=20), nullable=True))
        batch_op.add_column(sa.Column('text', sa.Text(), nullable=True))
        batch_op.add_column(sa.Column('text_chars', sa.Integer(), server_default='0', nullable=False))
        batch_op.add_column(sa.Column('pages', sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column('error', sa.Text(), nullable=True))
        batch_op.add_column(sa.Column('read_at', sa.DateTime(timezone=True), nullable=True))
        batch_op.create_index(batch_op.f('ix_attachments_method'), ['method'], unique=False)

    op.create_table('fetched_files',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('request_id', sa.Integer(), nullable=True),
    sa.Column('message_row_id', sa.Integer(), nullable=False),
    sa.Column('attachment_id', sa.Integer(), nullable=True),
    sa.Column('url', sa.Text(), nullable=False),
    sa.Column('url_sha256', sa.String(length=64), nullable=False),
    sa.Column('host', sa.String(length=255), nullable=False),
    sa.Column('link_kind', sa.String(length=20), nullable=False),
    sa.Column('state', sa.String(length=20), nullable=False),
    sa.Column('attempts', sa.Integer(), nullable=False),
    sa.Column('sha256', sa.String(length=64), nullable=True),
    sa.Column('stored_path', sa.String(length=500), nullable=True),
    sa.Column('filename', sa.String(length=255), nullable=True),
    sa.Column('content_type', sa.String(length=200), nullable=True),
    sa.Column('sniffed_type', sa.String(length=100), nullable=True),
    sa.Column('size', sa.BigInteger(), nullable=False),
    sa.Column('pages', sa.Integer(), nullable=True),
    sa.Column('response_headers', sa.JSON(), nullable=False),
    sa.Column('error', sa.Text(), nullable=True),
    sa.Column('fetched_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), server_default=sa.text('(CURRENT_TIMESTAMP)'), nullable=False),
    sa.ForeignKeyConstraint(['attachment_id'], ['attachments.id'], name=op.f('fk_fetched_files_attachment_id_attachments')),
    sa.ForeignKeyConstraint(['message_row_id'], ['messages.id'], name=op.f('fk_fetched_files_message_row_id_messages')),
    sa.ForeignKeyConstraint(['request_id'], ['requests.id'], name=op.f('fk_fetched_files_request_id_requests')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_fetched_files')),
    sa.UniqueConstraint('message_row_id', 'url_sha256', name='uq_fetched_files_message_row_id')
    )
    with op.batch_alter_table('fetched_files', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_fetched_files_message_row_id'), ['message_row_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_fetched_files_request_id'), ['request_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_fetched_files_sha256'), ['sha256'], unique=False)
        batch_op.create_index(batch_op.f('ix_fetched_files_state'), ['state'], unique=False)


def downgrade() -> None:
    with op.batch_alter_table('fetched_files', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_fetched_files_state'))
        batch_op.drop_index(batch_op.f('ix_fetched_files_sha256'))
        batch_op.drop_index(batch_op.f('ix_fetched_files_request_id'))
        batch_op.drop_index(batch_op.f('ix_fetched_files_message_row_id'))
    op.drop_table('fetched_files')
    with op.batch_alter_table('attachments', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_attachments_method'))
        batch_op.drop_column('read_at')
        batch_op.drop_column('error')
        batch_op.drop_column('pages')
        batch_op.drop_column('text_chars')
        batch_op.drop_column('text')
        batch_op.drop_column('method')
        batch_op.drop_column('sniffed_type')
