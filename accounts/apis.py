from drf_spectacular.utils import extend_schema, inline_serializer
from rest_framework import serializers
from rest_framework.response import Response
from rest_framework.views import APIView


class MeApi(APIView):
    """Zapier's authentication test and the source of its connection label."""

    @extend_schema(
        operation_id="me",
        responses=inline_serializer(
            "Me",
            {
                "account_id": serializers.IntegerField(),
                "account_name": serializers.CharField(),
                "email": serializers.EmailField(),
            },
        ),
    )
    def get(self, request):
        account = request.auth.account
        return Response({"account_id": account.id, "account_name": account.name, "email": account.owner.email})
