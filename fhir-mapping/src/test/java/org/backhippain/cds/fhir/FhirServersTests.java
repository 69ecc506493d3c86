package org.backhippain.cds.fhir;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.net.InetAddress;
import java.util.List;
import org.backhippain.cds.fhir.FhirServers.FhirServer;
import org.junit.jupiter.api.Test;

/** The FHIR server allow-list, the address rules and the access token's scope. */
class FhirServersTests {
  static final FhirServers LIST =
      FhirServers.of(
          List.of(
              "https://ehr.example.org/fhir/r4",
              "http://localhost:*/fhir",
              "http://10.1.2.3:8080/fhir"));

  @Test
  void aServerMatchesBySchemeHostPortAndPathPrefix() {
    assertThat(LIST.match("https://EHR.example.org/fhir/r4/")).isPresent();
    assertThat(LIST.match("https://ehr.example.org:443/fhir/r4/tenant-a")).isPresent();
    assertThat(LIST.match("http://localhost:8080/fhir")).isPresent();
    assertThat(LIST.match("http://10.1.2.3:8080/fhir")).isPresent();
    for (String refused :
        List.of(
            "http://ehr.example.org/fhir/r4",
            "https://ehr.example.org:8443/fhir/r4",
            "https://ehr.example.org/fhir/r4-other",
            "https://ehr.example.org/fhir",
            "https://ehr.example.org./fhir/r4",
            "https://evil.example/fhir/r4",
            "https://ehr.example.org@evil.example/fhir/r4",
            "https://ehr.example.org/fhir/r4/../../admin",
            "https://ehr.example.org/fhir/r4/%2e%2e/admin",
            "https://ehr.example.org/fhir/r4?x=1",
            "https://ehr.example.org/fhir/r4#x",
            "http://127.0.0.1:8080/fhir",
            "http://2130706433:8080/fhir",
            "http://10.1.2.3:8081/fhir",
            "http://localhost:*/fhir",
            "not a url")) {
      assertThat(LIST.match(refused)).as(refused).isEmpty();
    }
  }

  @Test
  void entriesAreBaseUrlsWithAStarOnlyAsThePort() {
    for (String bad :
        List.of("https://*.example.org/fhir", "https://ehr.example.org/fhir?x", "ehr/fhir")) {
      assertThatThrownBy(() -> FhirServers.of(List.of(bad)))
          .as(bad)
          .isInstanceOf(IllegalArgumentException.class);
    }
  }

  @Test
  void nextLinksMustStayUnderTheBase() {
    FhirServer server = LIST.match("https://ehr.example.org/fhir/r4").orElseThrow();
    assertThat(server.resolveUnder("https://ehr.example.org/fhir/r4?_getpages=x")).isPresent();
    assertThat(server.resolveUnder("https://ehr.example.org/fhir/r4/Observation?page=2"))
        .isPresent();
    assertThat(server.resolveUnder("Observation?page=2"))
        .contains("https://ehr.example.org:443/fhir/r4/Observation?page=2");
    for (String outside :
        List.of(
            "https://other.example.org/fhir/r4/Observation?page=2",
            "http://ehr.example.org/fhir/r4/Observation?page=2",
            "https://ehr.example.org/admin",
            "https://ehr.example.org/fhir/r4/../../admin",
            "//other.example.org/fhir/r4")) {
      assertThat(server.resolveUnder(outside)).as(outside).isEmpty();
    }
  }

  @Test
  void privateAddressesNeedAnExplicitListing() throws Exception {
    AddressRules rules = new AddressRules(List.of("10.20.0.0/16"));
    FhirServer byName = LIST.match("https://ehr.example.org/fhir/r4").orElseThrow();
    FhirServer localhost = LIST.match("http://localhost:9/fhir").orElseThrow();
    FhirServer literal = LIST.match("http://10.1.2.3:8080/fhir").orElseThrow();
    for (String address :
        List.of(
            "127.0.0.1",
            "169.254.169.254",
            "10.0.0.1",
            "172.16.0.1",
            "192.168.0.1",
            "100.64.0.1",
            "0.0.0.0",
            "::1",
            "fd00:ec2::254",
            "fe80::1",
            "::ffff:169.254.169.254",
            "64:ff9b::a9fe:a9fe")) {
      assertThat(rules.refusal(byName, InetAddress.getByName(address))).as(address).isNotNull();
    }
    assertThat(rules.refusal(byName, InetAddress.getByName("93.184.216.34"))).isNull();
    assertThat(rules.refusal(byName, InetAddress.getByName("10.20.3.4"))).isNull();
    assertThat(rules.refusal(localhost, InetAddress.getByName("127.0.0.1"))).isNull();
    assertThat(rules.refusal(localhost, InetAddress.getByName("10.0.0.1"))).isNotNull();
    assertThat(rules.refusal(literal, InetAddress.getByName("10.1.2.3"))).isNull();
  }

  @Test
  void aTokenCoversTheTypesItsScopeGrants() {
    AccessToken v1 = AccessToken.of("t", 60L, "launch patient/Observation.read openid", "p1");
    assertThat(v1.covers("Observation", false)).isTrue();
    assertThat(v1.covers("Condition", false)).isFalse();
    AccessToken v2 = AccessToken.of("t", 60L, "patient/Patient.r patient/*.s", null);
    assertThat(v2.covers("Patient", true)).isTrue();
    assertThat(v2.covers("Condition", false)).isTrue();
    assertThat(v2.covers("Condition", true)).isFalse();
    assertThat(AccessToken.of("t", 60L, "user/*.write", null).covers("Condition", false)).isFalse();
    assertThat(AccessToken.of("t", 60L, null, null).covers("Condition", false)).isFalse();
    assertThat(v1.forAnotherPatient("p1")).isFalse();
    assertThat(v1.forAnotherPatient("p2")).isTrue();
    assertThat(AccessToken.of("t", 0L, "patient/*.read", null).expired()).isTrue();
    assertThat(v1.toString()).doesNotContain("t,").doesNotContain("value");
  }
}
