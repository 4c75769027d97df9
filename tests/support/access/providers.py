"""URL arguments of the provider pages: a provider owned by none of the role users, and one of
its documents (stored for real, so officers' downloads succeed)."""

from core import uploads, uscc
from marketplace.providers.models import DocumentKind, Provider, ProviderDocument, ProviderKind, ProviderStatus
from tests.support.access.registry import OBJECT_GUARDED, builds

# A provider may download only its own documents; the matrix's provider owns another.
OBJECT_GUARDED.add("providers.document")

MINIMAL_PDF = b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n"


def _stranger_provider(ctx) -> Provider:
    if "stranger_provider" not in ctx:
        session = ctx["session"]
        owner = ctx["make_user"]("provider")
        code = uscc.complete("5", "2", "110115", "MA0ACC01")
        provider = Provider(user_id=owner.id, name="陌生艺术团", credit_code=code,
                            kind=ProviderKind.SOCIAL_ORGANISATION, legal_representative="甲", contact_name="乙",
                            contact_phone="13900000000", status=ProviderStatus.PENDING, category_ids=[])
        session.add(provider)
        session.flush()
        ctx["stranger_provider"] = provider
    return ctx["stranger_provider"]


@builds("provider_id")
def _provider(ctx):
    return _stranger_provider(ctx).id


@builds("document_id")
def _document(ctx):
    provider = _stranger_provider(ctx)
    stored = uploads.store(MINIMAL_PDF, uploaded_by=None, filename="证书.pdf")
    doc = ProviderDocument(provider_id=provider.id, file_id=stored.id, kind=DocumentKind.REGISTRATION)
    ctx["session"].add(doc)
    ctx["session"].flush()
    return doc.id
