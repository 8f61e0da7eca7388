"""Feedback, the ask log and trainers' gap resolutions.

Revision ID: 0001
Revises:
Create Date: 2026-11-26
"""

import sqlalchemy as sa
from alembic import op

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "feedback",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("created", sa.DateTime, nullable=False),
        sa.Column("rating", sa.SmallInteger, nullable=False),
        sa.Column("comment", sa.Text, nullable=False),
        sa.Column("question", sa.Text, nullable=False),
        sa.Column("history", sa.JSON, nullable=False),
        sa.Column("answer", sa.Text, nullable=False),
        sa.Column("abstained", sa.Boolean, nullable=False),
        sa.Column("citations", sa.JSON, nullable=False),
        sa.Column("verdicts", sa.JSON, nullable=False),
        sa.CheckConstraint("rating IN (0, 1)", name=op.f("ck_feedback_rating_up_or_down")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_feedback")),
    )
    op.create_table(
        "asks",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("created", sa.DateTime, nullable=False),
        sa.Column("channel", sa.String(16), nullable=False),
        sa.Column("question", sa.Text, nullable=False),
        sa.Column("history", sa.JSON, nullable=False),
        sa.Column("abstained", sa.Boolean, nullable=False),
        sa.Column("citations", sa.JSON, nullable=False),
        sa.Column("see_also", sa.JSON, nullable=False),
        sa.CheckConstraint("channel IN ('chat', 'api', 'cli')", name=op.f("ck_asks_known_channel")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_asks")),
    )
    op.create_index("ix_asks_created", "asks", ["created"])
    op.create_table(
        "gap_resolutions",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("created", sa.DateTime, nullable=False),
        sa.Column("kind", sa.String(16), nullable=False),
        sa.Column("questions", sa.JSON, nullable=False),
        sa.Column("page", sa.Text, nullable=True),
        sa.Column("section", sa.Text, nullable=True),
        sa.Column("anchor", sa.Text, nullable=True),
        sa.Column("note", sa.Text, nullable=False),
        sa.Column("resolved_by", sa.Text, nullable=False),
        sa.CheckConstraint("kind IN ('covered', 'needs_page')", name=op.f("ck_gap_resolutions_known_kind")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_gap_resolutions")),
    )


def downgrade() -> None:
    op.drop_table("gap_resolutions")
    op.drop_index("ix_asks_created", table_name="asks")
    op.drop_table("asks")
    op.drop_table("feedback")
