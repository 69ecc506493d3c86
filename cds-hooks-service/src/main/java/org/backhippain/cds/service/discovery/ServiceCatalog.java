package org.backhippain.cds.service.discovery;

import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.function.Function;
import java.util.stream.Collectors;
import org.backhippain.cds.cql.ContentPackage;
import org.backhippain.cds.fhir.PrefetchTemplate;
import org.springframework.stereotype.Component;

/** The services this deployment offers, from content, with their fetch plans. */
@Component
public class ServiceCatalog {
  private final List<CdsService> services;
  private final Map<String, CdsService> byId;
  private final Map<String, List<PrefetchTemplate>> templates;

  ServiceCatalog(ContentPackage content, ObjectMapper json) {
    Definitions definitions = read(content, json);
    this.services = List.copyOf(definitions.services());
    this.byId = services.stream().collect(Collectors.toMap(CdsService::id, Function.identity()));
    this.templates =
        services.stream()
            .collect(
                Collectors.toMap(CdsService::id, s -> s.templates(definitions.requiredPrefetch())));
  }

  private static Definitions read(ContentPackage content, ObjectMapper json) {
    String text = content.file("cds-services.json").orElseThrow();
    try {
      return json.readValue(text, Definitions.class);
    } catch (IOException e) {
      throw new UncheckedIOException("content cds-services.json is not valid", e);
    }
  }

  public List<CdsService> services() {
    return services;
  }

  public Optional<CdsService> service(String id) {
    return Optional.ofNullable(byId.get(id));
  }

  public List<PrefetchTemplate> templates(String serviceId) {
    return templates.get(serviceId);
  }

  record Definitions(List<String> requiredPrefetch, List<CdsService> services) {}
}
