package org.backhippain.cds.service.demo;

import ca.uhn.fhir.model.api.Include;
import ca.uhn.fhir.model.api.ResourceMetadataKeyEnum;
import ca.uhn.fhir.model.valueset.BundleEntrySearchModeEnum;
import ca.uhn.fhir.rest.annotation.IdParam;
import ca.uhn.fhir.rest.annotation.IncludeParam;
import ca.uhn.fhir.rest.annotation.OptionalParam;
import ca.uhn.fhir.rest.annotation.Read;
import ca.uhn.fhir.rest.annotation.Search;
import ca.uhn.fhir.rest.param.ReferenceParam;
import ca.uhn.fhir.rest.param.TokenOrListParam;
import ca.uhn.fhir.rest.param.TokenParam;
import ca.uhn.fhir.rest.server.IResourceProvider;
import ca.uhn.fhir.rest.server.exceptions.ResourceNotFoundException;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.function.Supplier;
import org.hl7.fhir.instance.model.api.IBaseResource;
import org.hl7.fhir.r4.model.Base;
import org.hl7.fhir.r4.model.CodeableConcept;
import org.hl7.fhir.r4.model.Coding;
import org.hl7.fhir.r4.model.IdType;
import org.hl7.fhir.r4.model.MedicationRequest;
import org.hl7.fhir.r4.model.Property;
import org.hl7.fhir.r4.model.Reference;
import org.hl7.fhir.r4.model.Resource;

/**
 * Read and search for one resource type of the demo store: the searches the prefetch templates and
 * the CDS Hooks Sandbox use ({@code patient}, {@code subject}, {@code code}, {@code status}, {@code
 * _id}, {@code _include}). Read-only.
 */
final class DemoResourceProvider implements IResourceProvider {
  private final Class<? extends IBaseResource> type;
  private final String typeName;
  private final Supplier<DemoPatientStore> store;

  DemoResourceProvider(
      Class<? extends IBaseResource> type, String typeName, Supplier<DemoPatientStore> store) {
    this.type = type;
    this.typeName = typeName;
    this.store = store;
  }

  @Override
  public Class<? extends IBaseResource> getResourceType() {
    return type;
  }

  @Read
  public IBaseResource read(@IdParam IdType id) {
    return store
        .get()
        .get(typeName, id.getIdPart())
        .orElseThrow(() -> new ResourceNotFoundException(id));
  }

  @Search(allowUnknownParams = true)
  public List<IBaseResource> search(
      @OptionalParam(name = "_id") TokenParam id,
      @OptionalParam(name = "patient") ReferenceParam patient,
      @OptionalParam(name = "subject") ReferenceParam subject,
      @OptionalParam(name = "code") TokenOrListParam code,
      @OptionalParam(name = "status") TokenOrListParam status,
      @IncludeParam(allow = {"MedicationRequest:medication"}) Set<Include> includes) {
    List<IBaseResource> out = new ArrayList<>();
    for (Resource resource : store.get().all(typeName)) {
      if ((id == null || id.getValue().equals(resource.getIdElement().getIdPart()))
          && belongsTo(resource, patient)
          && belongsTo(resource, subject)
          && hasCode(resource, code)
          && hasStatus(resource, status)) {
        out.add(resource);
      }
    }
    if (includes != null
        && includes.stream().anyMatch(i -> "MedicationRequest:medication".equals(i.getValue()))) {
      out.addAll(includedMedications(out));
    }
    return out;
  }

  /** The Medications the matched requests reference, marked as included (search mode include). */
  private List<IBaseResource> includedMedications(List<IBaseResource> matches) {
    Map<String, IBaseResource> included = new LinkedHashMap<>();
    for (IBaseResource match : matches) {
      if (match instanceof MedicationRequest request && request.hasMedicationReference()) {
        String medicationId = request.getMedicationReference().getReferenceElement().getIdPart();
        if (medicationId != null && !included.containsKey(medicationId)) {
          store
              .get()
              .get("Medication", medicationId)
              .ifPresent(
                  medication -> {
                    Resource copy = medication.copy();
                    ResourceMetadataKeyEnum.ENTRY_SEARCH_MODE.put(
                        copy, BundleEntrySearchModeEnum.INCLUDE);
                    included.put(medicationId, copy);
                  });
        }
      }
    }
    return List.copyOf(included.values());
  }

  private static boolean belongsTo(Resource resource, ReferenceParam patient) {
    if (patient == null) {
      return true;
    }
    String wanted = patient.getIdPart();
    if ("Patient".equals(resource.fhirType())) {
      return wanted.equals(resource.getIdElement().getIdPart());
    }
    for (String field : List.of("subject", "patient", "beneficiary")) {
      for (Base value : values(resource, field)) {
        if (value instanceof Reference ref
            && wanted.equals(ref.getReferenceElement().getIdPart())) {
          return true;
        }
      }
    }
    return false;
  }

  private static boolean hasCode(Resource resource, TokenOrListParam code) {
    if (code == null) {
      return true;
    }
    for (Base value : values(resource, "code")) {
      if (value instanceof CodeableConcept concept) {
        for (Coding coding : concept.getCoding()) {
          for (TokenParam token : code.getValuesAsQueryTokens()) {
            if (token.getValue().equals(coding.getCode())
                && (token.getSystem() == null || token.getSystem().equals(coding.getSystem()))) {
              return true;
            }
          }
        }
      }
    }
    return false;
  }

  private static boolean hasStatus(Resource resource, TokenOrListParam status) {
    if (status == null) {
      return true;
    }
    for (Base value : values(resource, "status")) {
      for (TokenParam token : status.getValuesAsQueryTokens()) {
        if (value.isPrimitive() && token.getValue().equals(value.primitiveValue())) {
          return true;
        }
      }
    }
    return false;
  }

  private static List<Base> values(Resource resource, String field) {
    Property property = resource.getNamedProperty(field);
    return property == null ? List.of() : property.getValues();
  }
}
