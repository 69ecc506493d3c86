package org.backhippain.cds.service.hooks;

import jakarta.servlet.http.HttpServletRequest;
import org.backhippain.cds.service.cards.CdsResponse;
import org.backhippain.cds.service.security.FhirServerAllowLists;
import org.backhippain.cds.service.system.PublicBaseUrls;
import org.springframework.http.MediaType;
import org.springframework.security.core.Authentication;
import org.springframework.web.bind.annotation.PathVariable;
import org.springframework.web.bind.annotation.PostMapping;
import org.springframework.web.bind.annotation.RequestBody;
import org.springframework.web.bind.annotation.RestController;

/** {@code POST /cds-services/{id}} (CDS Hooks §Calling a CDS Service). Delegates only. */
@RestController
class HookController {
  private final HookService hooks;
  private final PublicBaseUrls bases;
  private final FhirServerAllowLists fhirServers;

  HookController(HookService hooks, PublicBaseUrls bases, FhirServerAllowLists fhirServers) {
    this.hooks = hooks;
    this.bases = bases;
    this.fhirServers = fhirServers;
  }

  @PostMapping(
      path = "/cds-services/{id}",
      consumes = MediaType.APPLICATION_JSON_VALUE,
      produces = MediaType.APPLICATION_JSON_VALUE)
  CdsResponse call(
      @PathVariable String id,
      @RequestBody CdsRequest request,
      HttpServletRequest http,
      Authentication caller) {
    return hooks.answer(id, request, bases.of(http), fhirServers.forCaller(caller));
  }
}
