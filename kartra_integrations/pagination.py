"""Pagination for every list under /api/v1/: `?page=` (from 1) and `?page_size=` (at most 500)."""

from rest_framework.pagination import PageNumberPagination


class ApiPagination(PageNumberPagination):
    page_size = 100
    page_size_query_param = "page_size"
    max_page_size = 500
