"""DataTransfer in OCPP 2.0.1 (P01-P02): vendor-specific messages.

No vendor extension is built: a DataTransfer from the CSMS is answered UnknownVendorId
(P02.FR.02: a vendorId the station does not know). The station sends none of its own
(P01 is for vendor extensions, and there are none yet).
"""

from __future__ import annotations

import logging
from collections.abc import Mapping

from ocppd.features.profile import Handler, Services, TypedHandler
from ocppd.protocol.v201 import messages as m
from ocppd.protocol.v201.enums import DataTransferStatusEnumType

log = logging.getLogger(__name__)


async def data_transfer(request: m.DataTransferRequest) -> m.DataTransferResponse:
    log.info("DataTransfer from vendor %r: UnknownVendorId", request.vendor_id)
    return m.DataTransferResponse(status=DataTransferStatusEnumType.UNKNOWN_VENDOR_ID)


def handlers(_services: Services) -> Mapping[str, Handler]:
    return {"DataTransfer": TypedHandler(m.DataTransferRequest, data_transfer)}
