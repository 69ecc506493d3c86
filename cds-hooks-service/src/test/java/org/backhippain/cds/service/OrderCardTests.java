package org.backhippain.cds.service;

import static org.assertj.core.api.Assertions.assertThat;
import static org.backhippain.cds.service.HookClient.only;

import ca.uhn.fhir.context.FhirContext;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.util.ArrayList;
import java.util.List;
import org.backhippain.cds.cql.ContentCase;
import org.backhippain.cds.cql.ContentPackage;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.springframework.beans.factory.annotation.Autowired;
import org.springframework.boot.test.web.server.LocalServerPort;

/** The order cards as a clinician uses them: what one click on a suggestion does. */
@ServiceTest
class OrderCardTests {
  static final String OS = "back-hip-pain-order-select";

  @LocalServerPort int port;
  @Autowired ContentPackage content;
  @Autowired FhirContext fhir;
  @Autowired TestClock clock;
  HookClient client;

  @BeforeEach
  void setUp() {
    client = new HookClient(port);
  }

  /** The content case's order-select request, with full prefetch. */
  ObjectNode request(String caseId) {
    ContentCase c =
        ContentCase.all(content, fhir).stream()
            .filter(x -> x.id().equals(caseId))
            .findFirst()
            .orElseThrow();
    clock.set(c.evaluationDate());
    ObjectNode request = HookClient.caseRequest(c, "order-select", fhir);
    return client.prefetched(request, OS, client.fhirBase());
  }

  static List<JsonNode> actions(JsonNode card) {
    List<JsonNode> actions = new ArrayList<>();
    only(card.path("suggestions")).path("actions").forEach(actions::add);
    return actions;
  }

  @Test
  void imagingAt41DaysIsSwappedForAPtReferralInOneClick() {
    JsonNode card =
        client
            .post(OS, request("ImagingNotIndicated/pos-lumbar-mri-at-41-days"))
            .card("imaging-not-indicated");
    assertThat(card.path("indicator").asText()).isEqualTo("warning");
    assertThat(card.path("summary").asText()).contains("41 days").contains("refer to PT instead");
    assertThat(card.path("overrideReasons")).hasSize(4);
    JsonNode suggestion = only(card.path("suggestions"));
    assertThat(suggestion.path("isRecommended").asBoolean()).isTrue();
    List<JsonNode> actions = actions(card);
    assertThat(actions).hasSize(2);
    assertThat(actions)
        .anySatisfy(
            a -> {
              assertThat(a.path("type").asText()).isEqualTo("delete");
              assertThat(a.path("resourceId").asText()).isEqualTo("ServiceRequest/r7-pos-41d-mri");
            });
    assertThat(actions)
        .anySatisfy(
            a -> {
              assertThat(a.path("type").asText()).isEqualTo("create");
              assertThat(only(a.path("resource").path("code").path("coding")).path("code").asText())
                  .isEqualTo("308447003");
              assertThat(a.path("resource").path("status").asText()).isEqualTo("draft");
            });
    assertThat(card.has("links")).as("no handout once PT is suggested").isFalse();
  }

  @Test
  void imagingBeforeThreeWeeksLinksTheSelfCareHandoutInstead() {
    JsonNode card =
        client
            .post(OS, request("ImagingNotIndicated/pos-hip-xray-at-20-days-handout"))
            .card("imaging-not-indicated");
    assertThat(actions(card)).extracting(a -> a.path("type").asText()).containsExactly("delete");
    JsonNode link = only(card.path("links"));
    assertThat(link.path("type").asText()).isEqualTo("absolute");
    assertThat(link.path("url").asText()).isEqualTo(client.base() + "/handouts/self-care");
    var handout = client.getPage(link.path("url").asText());
    assertThat(handout.status()).isEqualTo(200);
    assertThat(handout.raw())
        .contains("Caring for lower back or hip pain at home")
        .contains("pillow between your knees")
        .contains("Sources:");
  }

  @Test
  void twoImagingDraftsGiveOneCardWithOneDeletePerDraft() {
    var answer = client.post(OS, request("ImagingNotIndicated/pos-two-imaging-drafts-one-card"));
    assertThat(answer.ruleIds()).containsExactly("imaging-not-indicated");
    JsonNode card = answer.card("imaging-not-indicated");
    assertThat(actions(card))
        .extracting(a -> a.path("resourceId").asText())
        .containsExactlyInAnyOrder(
            "ServiceRequest/r7-pos-two-drafts-mr", "ServiceRequest/r7-pos-two-drafts-xr");
    assertThat(card.path("detail").asText())
        .contains("MR Lumbar spine")
        .contains("XR lumbar spine");
  }

  @Test
  void withoutObservationsTheImagingCardStaysSilent() {
    ObjectNode request = request("ImagingNotIndicated/pos-lumbar-mri-at-41-days");
    ((ObjectNode) request.get("prefetch")).remove("observations");
    var answer = client.post(OS, request);
    assertThat(answer.status()).isEqualTo(200);
    assertThat(answer.ruleIds()).doesNotContain("imaging-not-indicated");
  }

  @Test
  void steroidRemovalIsOfferedButNotRecommended() {
    JsonNode card =
        client
            .post(OS, request("SystemicSteroidCaution/pos-prednisone-for-back-pain"))
            .card("systemic-steroid-caution");
    assertThat(only(card.path("suggestions")).path("isRecommended").asBoolean()).isFalse();
    assertThat(actions(card))
        .singleElement()
        .satisfies(
            a -> {
              assertThat(a.path("type").asText()).isEqualTo("delete");
              assertThat(a.path("resourceId").asText())
                  .isEqualTo("MedicationRequest/r14-pos-for-back-pain-rx");
            });
  }

  @Test
  void ptAccessWordingFollowsThePlanType() {
    String hmo =
        client
            .post(OS, request("PtAccess/pos-pt-draft-hmo-needs-referral"))
            .card("pt-access")
            .path("summary")
            .asText();
    JsonNode ppo =
        client
            .post(OS, request("PtAccess/pos-pt-draft-ppo-direct-access-sciatica"))
            .card("pt-access");
    assertThat(hmo).contains("requires a referral from the primary care provider");
    assertThat(ppo.path("summary").asText()).contains("direct access is allowed");
    assertThat(ppo.path("detail").asText()).contains("forward-bending stretches");
  }

  @Test
  void withoutCoverageThePtAccessCardSaysCheckThePlan() {
    ObjectNode request = request("PtAccess/pos-pt-draft-hmo-needs-referral");
    ((ObjectNode) request.get("prefetch")).remove("coverage");
    JsonNode card = client.post(OS, request).card("pt-access");
    assertThat(card.path("summary").asText()).contains("check the plan's referral rules");
    assertThat(card.path("detail").asText())
        .contains("Not available from the EHR, so not considered: coverage");
  }

  @Test
  void theOpioidCardLinksTheCdcGuideline() {
    JsonNode card =
        client
            .post(OS, request("OpioidFirstLineCaution/pos-oxycodone-acute-no-analgesic-trial"))
            .card("opioid-first-line-caution");
    assertThat(only(card.path("links")).path("url").asText()).contains("cdc.gov");
  }

  @Test
  void aDraftOrdersBundleWithBrokenFhirIs400() {
    ObjectNode request = request("ImagingNotIndicated/pos-lumbar-mri-at-41-days");
    ((ObjectNode) request.get("context"))
        .putObject("draftOrders")
        .put("resourceType", "Bundle")
        .putArray("entry")
        .addObject()
        .put("resource", "not a resource");
    var answer = client.post(OS, request);
    assertThat(answer.status()).isEqualTo(400);
    assertThat(answer.body().path("message").asText()).contains("draftOrders");
  }
}
