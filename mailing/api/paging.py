"""Keyset pagination: a page of attempts costs the same at row 1 and at row 1M, and
no listing counts its table."""

from rest_framework.pagination import CursorPagination


class KeysetPagination(CursorPagination):
    ordering = "-id"
    page_size = 100
    page_size_query_param = "limit"
    max_page_size = 1000
