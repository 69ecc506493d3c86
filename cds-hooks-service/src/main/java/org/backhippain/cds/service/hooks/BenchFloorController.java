package org.backhippain.cds.service.hooks;

import org.backhippain.cds.service.cards.CdsResponse;
import org.springframework.context.annotation.Profile;
import org.springframework.http.MediaType;
import org.springframework.web.bind.annotation.PathVariable;
import org.springframework.web.bind.annotation.PostMapping;
import org.springframework.web.bind.annotation.RequestBody;
import org.springframework.web.bind.annotation.RestController;

/**
 * {@code POST /bench/floor/{id}}, only in the {@code bench} profile: the same request through the
 * same HTTP stack, parsed but not evaluated — the floor the load benchmark compares hooks with.
 */
@RestController
@Profile("bench")
class BenchFloorController {
  private final HookService hooks;

  BenchFloorController(HookService hooks) {
    this.hooks = hooks;
  }

  @PostMapping(
      path = "/bench/floor/{id}",
      consumes = MediaType.APPLICATION_JSON_VALUE,
      produces = MediaType.APPLICATION_JSON_VALUE)
  CdsResponse floor(@PathVariable String id, @RequestBody CdsRequest request) {
    return hooks.parseOnly(id, request);
  }
}
