package org.backhippain.cds.service.discovery;

import java.util.List;
import org.springframework.http.MediaType;
import org.springframework.web.bind.annotation.GetMapping;
import org.springframework.web.bind.annotation.RestController;

/** {@code GET /cds-services} (CDS Hooks §Discovery). */
@RestController
class DiscoveryController {
  private final ServiceCatalog catalog;

  DiscoveryController(ServiceCatalog catalog) {
    this.catalog = catalog;
  }

  @GetMapping(path = "/cds-services", produces = MediaType.APPLICATION_JSON_VALUE)
  Discovery discovery() {
    return new Discovery(catalog.services());
  }

  record Discovery(List<CdsService> services) {}
}
