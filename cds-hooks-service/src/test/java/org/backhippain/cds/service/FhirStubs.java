package org.backhippain.cds.service;

import static com.github.tomakehurst.wiremock.client.WireMock.aResponse;
import static com.github.tomakehurst.wiremock.client.WireMock.get;
import static com.github.tomakehurst.wiremock.client.WireMock.urlEqualTo;
import static com.github.tomakehurst.wiremock.client.WireMock.urlPathEqualTo;
import static com.github.tomakehurst.wiremock.client.WireMock.urlPathMatching;

import ca.uhn.fhir.context.FhirContext;
import com.github.tomakehurst.wiremock.WireMockServer;
import com.github.tomakehurst.wiremock.client.ResponseDefinitionBuilder;
import org.hl7.fhir.r4.model.Bundle;
import org.hl7.fhir.r4.model.Condition;
import org.hl7.fhir.r4.model.DateTimeType;
import org.hl7.fhir.r4.model.DateType;
import org.hl7.fhir.r4.model.Patient;
import org.hl7.fhir.r4.model.Resource;

/** An EHR FHIR server played by WireMock: one patient with low back pain, nothing else. */
public final class FhirStubs {
  static final FhirContext FHIR = FhirContext.forR4Cached();

  private FhirStubs() {}

  public static ResponseDefinitionBuilder json(Resource resource) {
    return aResponse()
        .withHeader("Content-Type", "application/fhir+json")
        .withBody(FHIR.newJsonParser().encodeResourceToString(resource));
  }

  public static Bundle searchset(Resource... resources) {
    Bundle bundle = new Bundle().setType(Bundle.BundleType.SEARCHSET);
    for (Resource r : resources) {
      bundle.addEntry().setResource(r);
    }
    bundle.setTotal(resources.length);
    return bundle;
  }

  /**
   * Stubs every prefetch query: the patient, a low-back-pain Condition from {@code onset}, and
   * empty searches.
   */
  public static void lowBackPainPatient(WireMockServer ehr, String patientId, String onset) {
    ehr.stubFor(get(urlEqualTo("/fhir/Patient/" + patientId)).willReturn(json(patient(patientId))));
    ehr.stubFor(
        get(urlPathEqualTo("/fhir/Condition"))
            .willReturn(json(searchset(lowBackPain(patientId, onset)))));
    ehr.stubFor(
        get(urlPathMatching(
                "/fhir/(Observation|MedicationRequest|ServiceRequest|Procedure|Coverage)"))
            .willReturn(json(searchset())));
  }

  /** The same answers as JSON bytes by resource type (Patient: the read), for other stubs. */
  static java.util.Map<String, byte[]> answers(String patientId, String onset) {
    return java.util.Map.of(
        "Patient", StreamingFhirServer.json(patient(patientId)),
        "Condition", StreamingFhirServer.json(searchset(lowBackPain(patientId, onset))));
  }

  static Patient patient(String patientId) {
    Patient patient = new Patient();
    patient.setId(patientId);
    patient.setBirthDateElement(new DateType("1975-04-02"));
    return patient;
  }

  static Condition lowBackPain(String patientId, String onset) {
    Condition lbp = new Condition();
    lbp.setId("lbp-1");
    lbp.getClinicalStatus()
        .addCoding()
        .setSystem("http://terminology.hl7.org/CodeSystem/condition-clinical")
        .setCode("active");
    lbp.getCode()
        .addCoding()
        .setSystem("http://snomed.info/sct")
        .setCode("279039007")
        .setDisplay("Low back pain");
    lbp.setOnset(new DateTimeType(onset));
    lbp.getSubject().setReference("Patient/" + patientId);
    return lbp;
  }
}
