package org.backhippain.cds.service;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.File;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.List;
import java.util.logging.Level;
import org.backhippain.cds.cql.RuleDefinition;
import org.backhippain.cds.cql.RuleEngine;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.openqa.selenium.By;
import org.openqa.selenium.OutputType;
import org.openqa.selenium.TakesScreenshot;
import org.openqa.selenium.WebDriver;
import org.openqa.selenium.WebElement;
import org.openqa.selenium.chrome.ChromeDriver;
import org.openqa.selenium.chrome.ChromeDriverService;
import org.openqa.selenium.chrome.ChromeOptions;
import org.openqa.selenium.logging.LogEntry;
import org.openqa.selenium.logging.LogType;
import org.openqa.selenium.logging.LoggingPreferences;
import org.springframework.beans.factory.annotation.Autowired;
import org.springframework.boot.test.web.server.LocalServerPort;

/**
 * The rule book in a real browser (headless Chromium): the index lists every rule; every rule page
 * shows its card preview, its value sets and a case table where every case passes; the terminology
 * page lists every value set and the gaps, and its code search finds a code (with or without the
 * dot, or below a category); no console errors. Screenshots go to target/screenshots. Without
 * Chromium the test is skipped with a reason, unless REQUIRE_BROWSER is set (CI), when a missing
 * browser fails it.
 */
@ServiceTest
class RuleBookBrowserTests {
  static final String CHROMIUM = "/usr/bin/chromium";
  static final String CHROMEDRIVER = "/usr/bin/chromedriver";

  @LocalServerPort int port;
  @Autowired RuleEngine engine;
  WebDriver browser;
  Path profile;

  @BeforeEach
  void startBrowser() throws Exception {
    boolean present = new File(CHROMIUM).canExecute() && new File(CHROMEDRIVER).canExecute();
    if (!present) {
      String reason =
          "SKIPPED: headless Chromium not found ("
              + CHROMIUM
              + ", "
              + CHROMEDRIVER
              + "); .ci/run installs it (apt-get install chromium chromium-driver)";
      System.out.println(reason);
      if (System.getenv("REQUIRE_BROWSER") != null) {
        throw new AssertionError("REQUIRE_BROWSER is set but " + reason);
      }
      Assumptions.abort(reason);
    }
    profile = Files.createTempDirectory("chromium-profile");
    ChromeOptions options = new ChromeOptions();
    options.setBinary(CHROMIUM);
    options.addArguments(
        "--headless=new",
        "--no-sandbox",
        "--disable-gpu",
        "--disable-dev-shm-usage",
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-sync",
        "--no-first-run",
        "--window-size=1280,1600",
        "--user-data-dir=" + profile);
    LoggingPreferences logs = new LoggingPreferences();
    logs.enable(LogType.BROWSER, Level.ALL);
    options.setCapability("goog:loggingPrefs", logs);
    ChromeDriverService service =
        new ChromeDriverService.Builder()
            .usingDriverExecutable(new File(CHROMEDRIVER))
            .usingAnyFreePort()
            .build();
    browser = new ChromeDriver(service, options);
  }

  @AfterEach
  void stopBrowser() {
    if (browser != null) {
      browser.quit();
    }
  }

  void screenshot(String name) throws Exception {
    Path dir = Path.of("target", "screenshots");
    Files.createDirectories(dir);
    File shot = ((TakesScreenshot) browser).getScreenshotAs(OutputType.FILE);
    Files.copy(shot.toPath(), dir.resolve(name + ".png"), StandardCopyOption.REPLACE_EXISTING);
  }

  List<String> consoleErrors() {
    return browser.manage().logs().get(LogType.BROWSER).getAll().stream()
        .filter(e -> e.getLevel().intValue() >= Level.SEVERE.intValue())
        .map(LogEntry::getMessage)
        .toList();
  }

  /** Types a code into the terminology page's search and returns what it lists. */
  String searchCode(String code) {
    WebElement input = browser.findElement(By.cssSelector("[data-testid=code-search]"));
    input.clear();
    input.sendKeys(code);
    return browser.findElement(By.cssSelector("[data-testid=code-results]")).getText();
  }

  @Test
  void everyRulePageShowsItsCardPreviewAndPassingCases() throws Exception {
    String base = "http://localhost:" + port;
    browser.get(base + "/review");
    List<WebElement> rows = browser.findElements(By.cssSelector("[data-testid=rules] tbody tr"));
    List<RuleDefinition> rules = engine.catalog().rules();
    assertThat(rows).hasSize(rules.size()).hasSize(16);
    screenshot("index");
    assertThat(consoleErrors()).isEmpty();

    for (RuleDefinition rule : rules) {
      browser.findElement(By.linkText(rule.ruleId())).click();
      assertThat(browser.getCurrentUrl()).endsWith("/review/" + rule.ruleId());
      WebElement card = browser.findElement(By.cssSelector("[data-testid=card-preview]"));
      assertThat(card.findElement(By.className("summary")).getText()).isNotBlank();
      assertThat(card.getText()).contains("Why");
      List<WebElement> cases = browser.findElements(By.cssSelector("[data-testid=cases] tbody tr"));
      assertThat(cases).as(rule.ruleId() + " cases").isNotEmpty();
      assertThat(browser.findElements(By.cssSelector("[data-testid=cases] tr.fail"))).isEmpty();
      assertThat(browser.findElement(By.cssSelector("[data-testid=cql]")).getText())
          .contains("library " + rule.libraryName());
      assertThat(browser.findElements(By.cssSelector("table.valueset"))).isNotEmpty();
      screenshot(rule.ruleId());
      assertThat(consoleErrors()).as(rule.ruleId()).isEmpty();
      browser.navigate().back();
    }

    browser.get(base + "/review/terminology");
    assertThat(browser.findElements(By.cssSelector("[data-testid=value-sets] tbody tr")))
        .hasSizeGreaterThanOrEqualTo(32);
    assertThat(browser.findElement(By.cssSelector("[data-testid=gaps]")).getText())
        .contains("dexamethasone", "betamethasone", "triamcinolone");
    assertThat(searchCode("m54.50")).contains("back-pain").contains("Low back pain, unspecified");
    assertThat(searchCode("245134")).contains("opioids").contains("Transdermal");
    assertThat(searchCode("C50.9199")).contains("below a category of: cancer");
    assertThat(searchCode("C44.91")).contains("in no value set");
    screenshot("terminology");
    assertThat(consoleErrors()).isEmpty();

    browser.get(base + "/review/sources");
    assertThat(browser.findElements(By.cssSelector("[data-testid=sources] li")).size())
        .isGreaterThan(20);
    screenshot("sources");
    assertThat(consoleErrors()).isEmpty();
  }
}
