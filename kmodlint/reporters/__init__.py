"""Reporters only format: findings, tables and graphs in, text out."""
