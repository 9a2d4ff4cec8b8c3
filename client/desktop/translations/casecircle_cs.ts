<?xml version="1.0" encoding="utf-8"?>
<!DOCTYPE TS>
<TS version="2.1" language="cs_CZ">
<context>
    <name>AddColleagueDialog</name>
    <message>
        <location filename="../members_panel.py" line="140"/>
        <source>Add a colleague</source>
        <translation>Přidat kolegu</translation>
    </message>
    <message>
        <location filename="../members_panel.py" line="142"/>
        <source>Their devices are checked against the directory before anything is sent.</source>
        <translation>Před odesláním čehokoli se zařízení vybrané osoby ověří v adresáři.</translation>
    </message>
</context>
<context>
    <name>ApprovalsTab</name>
    <message>
        <location filename="../coordinator_approvals.py" line="54"/>
        <source>A device that asked to join shows its invite id on its screen: compare it with the one here before approving. Approving checks the device&apos;s proof of the invite code; a request that fails the check is rejected.</source>
        <translation>Zařízení, které požádalo o připojení, zobrazuje na své obrazovce ID pozvánky: před schválením je porovnejte s ID uvedeným zde. Při schválení se ověří, že zařízení prokázalo znalost kódu pozvánky; žádost, která ověřením neprojde, je zamítnuta.</translation>
    </message>
    <message>
        <location filename="../coordinator_approvals.py" line="60"/>
        <source>Invite id</source>
        <translation>ID pozvánky</translation>
    </message>
    <message>
        <location filename="../coordinator_approvals.py" line="60"/>
        <source>Device</source>
        <translation>Zařízení</translation>
    </message>
    <message>
        <location filename="../coordinator_approvals.py" line="60"/>
        <source>Received</source>
        <translation>Přijato</translation>
    </message>
    <message>
        <location filename="../coordinator_approvals.py" line="60"/>
        <source>Invited</source>
        <translation>Pozvaná osoba</translation>
    </message>
    <message>
        <location filename="../coordinator_approvals.py" line="62"/>
        <source>Approve</source>
        <translation>Schválit</translation>
    </message>
    <message>
        <location filename="../coordinator_approvals.py" line="63"/>
        <source>Refresh</source>
        <translation>Obnovit</translation>
    </message>
    <message>
        <location filename="../coordinator_approvals.py" line="77"/>
        <source>{0} ({1}), {2}</source>
        <translation>{0} ({1}), {2}</translation>
    </message>
    <message>
        <location filename="../coordinator_approvals.py" line="81"/>
        <source>not an invite of yours: left alone</source>
        <translation>není vaše pozvánka: ponecháno bez zásahu</translation>
    </message>
    <message>
        <location filename="../coordinator_approvals.py" line="129"/>
        <source>{0} ({1})</source>
        <translation>{0} ({1})</translation>
    </message>
    <message>
        <location filename="../coordinator_approvals.py" line="132"/>
        <source>Approved {0}: device {1} certified and logged.</source>
        <translation>Schváleno – {0}: zařízení {1} bylo certifikováno a zapsáno do logu.</translation>
    </message>
    <message>
        <location filename="../coordinator_approvals.py" line="138"/>
        <source>Rejected {0}: device {1} ({2}).</source>
        <translation>Zamítnuto – {0}: zařízení {1} ({2}).</translation>
    </message>
</context>
<context>
    <name>AttachmentLine</name>
    <message>
        <location filename="../thread_view.py" line="59"/>
        <source>Save…</source>
        <translation>Uložit…</translation>
    </message>
</context>
<context>
    <name>AuditorPage</name>
    <message>
        <location filename="../auditor_page.py" line="253"/>
        <source>Audit a relay</source>
        <translation>Audit serveru</translation>
    </message>
    <message>
        <location filename="../auditor_page.py" line="256"/>
        <source>Checks from outside that the relay stores only ciphertext and an honest transparency log. Give the relay&apos;s data directory (best with the relay stopped) or an audit export; nothing there is changed.</source>
        <translation>Zvenčí ověří, že server ukládá pouze zašifrovaná data a vede poctivý transparentní log. Zadejte datový adresář serveru (nejlépe při zastaveném serveru) nebo auditní export; nic v nich se nezmění.</translation>
    </message>
    <message>
        <location filename="../auditor_page.py" line="262"/>
        <source>Relay data or export</source>
        <translation>Data serveru nebo export</translation>
    </message>
    <message>
        <location filename="../auditor_page.py" line="263"/>
        <source>Platform root key</source>
        <translation>Kořenový klíč platformy</translation>
    </message>
    <message>
        <location filename="../auditor_page.py" line="264"/>
        <source>Relay key</source>
        <translation>Klíč serveru</translation>
    </message>
    <message>
        <location filename="../auditor_page.py" line="265"/>
        <source>Tree heads files</source>
        <translation>Soubory hlav stromu</translation>
    </message>
    <message>
        <location filename="../auditor_page.py" line="266"/>
        <location filename="../auditor_page.py" line="319"/>
        <source>Canary markers</source>
        <translation>Kontrolní značky (canary)</translation>
    </message>
    <message>
        <location filename="../auditor_page.py" line="267"/>
        <source>Relay log files</source>
        <translation>Soubory logů serveru</translation>
    </message>
    <message>
        <location filename="../auditor_page.py" line="271"/>
        <source>A folder holding {0}</source>
        <translation>Složka obsahující {0}</translation>
    </message>
    <message>
        <location filename="../auditor_page.py" line="272"/>
        <source>Folder…</source>
        <translation>Složka…</translation>
    </message>
    <message>
        <location filename="../auditor_page.py" line="273"/>
        <source>Database file…</source>
        <translation>Soubor databáze…</translation>
    </message>
    <message>
        <location filename="../auditor_page.py" line="275"/>
        <source>64 hex digits; optional when tree heads files are given</source>
        <translation>64 šestnáctkových číslic; nepovinné, pokud jsou zadány soubory hlav stromu</translation>
    </message>
    <message>
        <location filename="../auditor_page.py" line="278"/>
        <source>64 hex digits; optional, taken from the data when left empty</source>
        <translation>64 šestnáctkových číslic; nepovinné, nevyplněný klíč se převezme z dat</translation>
    </message>
    <message>
        <location filename="../auditor_page.py" line="280"/>
        <source>Optional: without markers the canary is skipped</source>
        <translation>Nepovinné: bez značek se kontrola canary přeskočí</translation>
    </message>
    <message>
        <location filename="../auditor_page.py" line="281"/>
        <source>Choose…</source>
        <translation>Vybrat…</translation>
    </message>
    <message>
        <location filename="../auditor_page.py" line="283"/>
        <source>Add…</source>
        <translation>Přidat…</translation>
    </message>
    <message>
        <location filename="../auditor_page.py" line="284"/>
        <source>Remove</source>
        <translation>Odebrat</translation>
    </message>
    <message>
        <location filename="../auditor_page.py" line="285"/>
        <source>Back</source>
        <translation>Zpět</translation>
    </message>
    <message>
        <location filename="../auditor_page.py" line="286"/>
        <source>Run the audit</source>
        <translation>Spustit audit</translation>
    </message>
    <message>
        <location filename="../auditor_page.py" line="287"/>
        <source>Save HTML report…</source>
        <translation>Uložit zprávu v HTML…</translation>
    </message>
    <message>
        <location filename="../auditor_page.py" line="288"/>
        <source>Check</source>
        <translation>Kontrola</translation>
    </message>
    <message>
        <location filename="../auditor_page.py" line="288"/>
        <source>Result</source>
        <translation>Výsledek</translation>
    </message>
    <message>
        <location filename="../auditor_page.py" line="288"/>
        <source>Details</source>
        <translation>Podrobnosti</translation>
    </message>
    <message>
        <location filename="../auditor_page.py" line="294"/>
        <source>Relay data directory or export</source>
        <translation>Datový adresář serveru nebo export</translation>
    </message>
    <message>
        <location filename="../auditor_page.py" line="301"/>
        <source>The relay&apos;s database</source>
        <translation>Databáze serveru</translation>
    </message>
    <message>
        <location filename="../auditor_page.py" line="303"/>
        <source>Relay database ({0})</source>
        <translation>Databáze serveru ({0})</translation>
    </message>
    <message>
        <location filename="../auditor_page.py" line="310"/>
        <source>Tree heads exported by clients</source>
        <translation>Hlavy stromu exportované klienty</translation>
    </message>
    <message>
        <location filename="../auditor_page.py" line="310"/>
        <source>JSON files (*.json)</source>
        <translation>Soubory JSON (*.json)</translation>
    </message>
    <message>
        <location filename="../auditor_page.py" line="315"/>
        <source>The relay&apos;s log files</source>
        <translation>Soubory logů serveru</translation>
    </message>
    <message>
        <location filename="../auditor_page.py" line="348"/>
        <source>Choose the relay&apos;s data directory or an audit export.</source>
        <translation>Zvolte datový adresář serveru nebo auditní export.</translation>
    </message>
    <message>
        <location filename="../auditor_page.py" line="353"/>
        <source>A key is 64 hex digits.</source>
        <translation>Klíč musí mít 64 šestnáctkových číslic.</translation>
    </message>
    <message>
        <location filename="../auditor_page.py" line="374"/>
        <source>The audit could not run: {0}</source>
        <translation>Audit nebylo možné provést: {0}</translation>
    </message>
    <message>
        <location filename="../auditor_page.py" line="387"/>
        <source>PASS</source>
        <translation>VYHOVUJE</translation>
    </message>
    <message>
        <location filename="../auditor_page.py" line="388"/>
        <source>FAIL</source>
        <translation>NEVYHOVUJE</translation>
    </message>
    <message>
        <location filename="../auditor_page.py" line="389"/>
        <source>SKIPPED</source>
        <translation>PŘESKOČENO</translation>
    </message>
    <message>
        <location filename="../auditor_page.py" line="401"/>
        <source>Verdict: {0}</source>
        <translation>Celkový výsledek: {0}</translation>
    </message>
    <message>
        <location filename="../auditor_page.py" line="404"/>
        <source>an audit export</source>
        <translation>auditní export</translation>
    </message>
    <message>
        <location filename="../auditor_page.py" line="404"/>
        <source>a relay data directory</source>
        <translation>datový adresář serveru</translation>
    </message>
    <message>
        <location filename="../auditor_page.py" line="406"/>
        <source>not given</source>
        <translation>nezadán</translation>
    </message>
    <message>
        <location filename="../auditor_page.py" line="407"/>
        <source>unknown</source>
        <translation>neznámý</translation>
    </message>
    <message>
        <location filename="../auditor_page.py" line="409"/>
        <source>Audited {0} ({1}). Platform root key: {2}. Relay key: {3}.</source>
        <translation>Auditováno: {0} ({1}). Kořenový klíč platformy: {2}. Klíč serveru: {3}.</translation>
    </message>
    <message>
        <location filename="../auditor_page.py" line="440"/>
        <source>Proves</source>
        <translation>Prokazuje</translation>
    </message>
    <message>
        <location filename="../auditor_page.py" line="441"/>
        <source>Cannot prove</source>
        <translation>Nemůže prokázat</translation>
    </message>
    <message>
        <location filename="../auditor_page.py" line="443"/>
        <source>Fact</source>
        <translation>Údaj</translation>
    </message>
    <message>
        <location filename="../auditor_page.py" line="445"/>
        <source>Failure</source>
        <translation>Selhání</translation>
    </message>
    <message>
        <location filename="../auditor_page.py" line="445"/>
        <source>Note</source>
        <translation>Poznámka</translation>
    </message>
    <message numerus="yes">
        <location filename="../auditor_page.py" line="448"/>
        <source>%n further finding(s) not listed.</source>
        <translation>
            <numerusform>%n další zjištění není uvedeno.</numerusform>
            <numerusform>%n další zjištění nejsou uvedena.</numerusform>
            <numerusform>%n dalších zjištění není uvedeno.</numerusform>
        </translation>
    </message>
    <message>
        <location filename="../auditor_page.py" line="449"/>
        <source>More</source>
        <translation>Další</translation>
    </message>
    <message>
        <location filename="../auditor_page.py" line="472"/>
        <source>Save the audit report</source>
        <translation>Uložit zprávu z auditu</translation>
    </message>
    <message>
        <location filename="../auditor_page.py" line="472"/>
        <source>HTML (*.html)</source>
        <translation>HTML (*.html)</translation>
    </message>
    <message>
        <location filename="../auditor_page.py" line="483"/>
        <source>Report saved to {0}.</source>
        <translation>Zpráva byla uložena do {0}.</translation>
    </message>
    <message>
        <location filename="../auditor_page.py" line="486"/>
        <source>The report could not be saved: {0}</source>
        <translation>Zprávu nebylo možné uložit: {0}</translation>
    </message>
</context>
<context>
    <name>CaseList</name>
    <message>
        <location filename="../case_list.py" line="47"/>
        <source>Cases</source>
        <translation>Případy</translation>
    </message>
    <message>
        <location filename="../case_list.py" line="48"/>
        <source>New case…</source>
        <translation>Nový případ…</translation>
    </message>
    <message numerus="yes">
        <location filename="../case_list.py" line="84"/>
        <source>%n unread</source>
        <translation>
            <numerusform>%n nepřečtený</numerusform>
            <numerusform>%n nepřečtené</numerusform>
            <numerusform>%n nepřečtených</numerusform>
        </translation>
    </message>
    <message>
        <location filename="../case_list.py" line="86"/>
        <source>this device was removed from the case</source>
        <translation>toto zařízení bylo z případu odebráno</translation>
    </message>
</context>
<context>
    <name>ChangePassphraseDialog</name>
    <message>
        <location filename="../passphrase_dialog.py" line="49"/>
        <source>Change passphrase</source>
        <translation>Změna heslové fráze</translation>
    </message>
    <message>
        <location filename="../passphrase_dialog.py" line="50"/>
        <source>Current passphrase</source>
        <translation>Současná heslová fráze</translation>
    </message>
</context>
<context>
    <name>CompareKeysDialog</name>
    <message>
        <location filename="../members_panel.py" line="202"/>
        <source>Their code</source>
        <translation>Kód kolegy</translation>
    </message>
    <message>
        <location filename="../members_panel.py" line="202"/>
        <source>Images (*.png *.jpg *.jpeg)</source>
        <translation>Obrázky (*.png *.jpg *.jpeg)</translation>
    </message>
    <message>
        <location filename="../members_panel.py" line="216"/>
        <source>Compare keys with {0}</source>
        <translation>Porovnání klíčů – {0}</translation>
    </message>
    <message>
        <location filename="../members_panel.py" line="219"/>
        <source>Compare these numbers with {0}, in person or on a call you trust (or scan each other&apos;s code). If they are the same on both devices, no one is in between.</source>
        <translation>Porovnejte toto bezpečnostní číslo s číslem, které vidí {0} – osobně nebo během hovoru, kterému důvěřujete (případně si navzájem naskenujte kód). Pokud je na obou zařízeních stejné, nikdo se mezi vás nevložil.</translation>
    </message>
    <message>
        <location filename="../members_panel.py" line="224"/>
        <source>The numbers are the same: mark this device as verified</source>
        <translation>Bezpečnostní čísla se shodují: označit toto zařízení jako ověřené</translation>
    </message>
    <message>
        <location filename="../members_panel.py" line="225"/>
        <source>Check their code from an image…</source>
        <translation>Ověřit kód kolegy z obrázku…</translation>
    </message>
</context>
<context>
    <name>Composer</name>
    <message>
        <location filename="../composer.py" line="95"/>
        <source>Write a note to the case…</source>
        <translation>Napište záznam k případu…</translation>
    </message>
    <message>
        <location filename="../composer.py" line="96"/>
        <source>Attach files…</source>
        <translation>Přiložit soubory…</translation>
    </message>
    <message>
        <location filename="../composer.py" line="97"/>
        <source>Send</source>
        <translation>Odeslat</translation>
    </message>
    <message>
        <location filename="../composer.py" line="98"/>
        <source>Send anyway</source>
        <translation>Přesto odeslat</translation>
    </message>
    <message>
        <location filename="../composer.py" line="127"/>
        <source>Attach files</source>
        <translation>Přiložit soubory</translation>
    </message>
    <message>
        <location filename="../composer.py" line="171"/>
        <source>File {0} of {1}: %p%</source>
        <translation>Soubor {0} z {1}: %p%</translation>
    </message>
    <message>
        <location filename="../composer.py" line="191"/>
        <source>a birth number</source>
        <translation>rodné číslo</translation>
    </message>
    <message>
        <location filename="../composer.py" line="192"/>
        <source>a phone number</source>
        <translation>telefonní číslo</translation>
    </message>
    <message>
        <location filename="../composer.py" line="193"/>
        <source>an e-mail address</source>
        <translation>e-mailová adresa</translation>
    </message>
    <message>
        <location filename="../composer.py" line="194"/>
        <source>a street address</source>
        <translation>adresa</translation>
    </message>
    <message>
        <location filename="../composer.py" line="198"/>
        <source>This note may identify someone ({0}). Cases stay anonymised: edit the note, or send it anyway.</source>
        <translation>Tento záznam může někoho identifikovat ({0}). Případy musí zůstat anonymizované: upravte záznam, nebo jej přesto odešlete.</translation>
    </message>
</context>
<context>
    <name>ConfirmRevokeDialog</name>
    <message>
        <location filename="../coordinator_dialogs.py" line="38"/>
        <source>The device was lost or stolen</source>
        <translation>Zařízení bylo ztraceno nebo odcizeno</translation>
    </message>
    <message>
        <location filename="../coordinator_dialogs.py" line="39"/>
        <source>Its key may be compromised</source>
        <translation>Jeho klíč mohl být kompromitován</translation>
    </message>
    <message>
        <location filename="../coordinator_dialogs.py" line="40"/>
        <source>The member left</source>
        <translation>Člen ukončil spolupráci</translation>
    </message>
    <message>
        <location filename="../coordinator_dialogs.py" line="41"/>
        <source>Replaced by a new device</source>
        <translation>Nahrazeno novým zařízením</translation>
    </message>
    <message>
        <location filename="../coordinator_dialogs.py" line="42"/>
        <source>No reason given</source>
        <translation>Bez udání důvodu</translation>
    </message>
    <message>
        <location filename="../coordinator_dialogs.py" line="47"/>
        <source>Revoke a device</source>
        <translation>Zneplatnit zařízení</translation>
    </message>
    <message>
        <location filename="../coordinator_dialogs.py" line="50"/>
        <source>Revoke device {0} of {1} ({2})? It can no longer read new notes or post; this is logged and cannot be undone.</source>
        <translation>Zneplatnit zařízení {0} člena {1} ({2})? Zařízení pak nebude moci číst nové záznamy ani přidávat vlastní; tento krok se zapíše do logu a nelze jej vrátit zpět.</translation>
    </message>
    <message>
        <location filename="../coordinator_dialogs.py" line="54"/>
        <source>Reason</source>
        <translation>Důvod</translation>
    </message>
    <message>
        <location filename="../coordinator_dialogs.py" line="56"/>
        <source>Revoke a member</source>
        <translation>Zneplatnit člena</translation>
    </message>
    <message numerus="yes">
        <location filename="../coordinator_dialogs.py" line="59"/>
        <source>Revoke every device of {0} ({1}): %n device(s)? They can no longer read new notes or post; this is logged and cannot be undone.</source>
        <translation>
            <numerusform>Zneplatnit všechna zařízení člena {0} ({1}), celkem %n? Zařízení pak nebude moci číst nové záznamy ani přidávat vlastní; tento krok se zapíše do logu a nelze jej vrátit zpět.</numerusform>
            <numerusform>Zneplatnit všechna zařízení člena {0} ({1}), celkem %n? Zařízení pak nebudou moci číst nové záznamy ani přidávat vlastní; tento krok se zapíše do logu a nelze jej vrátit zpět.</numerusform>
            <numerusform>Zneplatnit všechna zařízení člena {0} ({1}), celkem %n? Zařízení pak nebudou moci číst nové záznamy ani přidávat vlastní; tento krok se zapíše do logu a nelze jej vrátit zpět.</numerusform>
        </translation>
    </message>
    <message>
        <location filename="../coordinator_dialogs.py" line="71"/>
        <source>Revoke</source>
        <translation>Zneplatnit</translation>
    </message>
</context>
<context>
    <name>CoordinatorPage</name>
    <message>
        <location filename="../coordinator_page.py" line="129"/>
        <source>Coordinator</source>
        <translation>Koordinátor</translation>
    </message>
    <message>
        <location filename="../coordinator_page.py" line="130"/>
        <source>Refresh</source>
        <translation>Obnovit</translation>
    </message>
    <message>
        <location filename="../coordinator_page.py" line="131"/>
        <source>Members &amp;&amp; devices</source>
        <translation>Členové &amp;&amp; zařízení</translation>
    </message>
    <message>
        <location filename="../coordinator_page.py" line="132"/>
        <source>Invites</source>
        <translation>Pozvánky</translation>
    </message>
    <message>
        <location filename="../coordinator_page.py" line="133"/>
        <source>Approvals</source>
        <translation>Schvalování</translation>
    </message>
    <message>
        <location filename="../coordinator_page.py" line="134"/>
        <source>All devices ever issued</source>
        <translation>Všechna vydaná zařízení</translation>
    </message>
    <message>
        <location filename="../coordinator_page.py" line="192"/>
        <source>Device {0} revoked (log entry {1}); its removal was proposed.</source>
        <translation>Zařízení {0} bylo zneplatněno (položka logu {1}); jeho odebrání bylo navrženo.</translation>
    </message>
    <message numerus="yes">
        <location filename="../coordinator_page.py" line="203"/>
        <source>%n device(s) revoked.</source>
        <translation>
            <numerusform>Bylo zneplatněno %n zařízení.</numerusform>
            <numerusform>Byla zneplatněna %n zařízení.</numerusform>
            <numerusform>Bylo zneplatněno %n zařízení.</numerusform>
        </translation>
    </message>
    <message numerus="yes">
        <location filename="../coordinator_page.py" line="211"/>
        <source>%n removal proposal(s) sent.</source>
        <translation>
            <numerusform>Byl odeslán %n návrh na odebrání.</numerusform>
            <numerusform>Byly odeslány %n návrhy na odebrání.</numerusform>
            <numerusform>Bylo odesláno %n návrhů na odebrání.</numerusform>
        </translation>
    </message>
    <message>
        <location filename="../coordinator_page.py" line="247"/>
        <source>QR image saved to {0}: it is as secret as the words.</source>
        <translation>Obrázek s QR kódem byl uložen do {0}: je stejně tajný jako slova.</translation>
    </message>
</context>
<context>
    <name>CoordinatorTexts</name>
    <message>
        <location filename="../coordinator_texts.py" line="24"/>
        <source>no reason given</source>
        <translation>bez udání důvodu</translation>
    </message>
    <message>
        <location filename="../coordinator_texts.py" line="25"/>
        <source>device lost</source>
        <translation>ztráta zařízení</translation>
    </message>
    <message>
        <location filename="../coordinator_texts.py" line="26"/>
        <source>key compromised</source>
        <translation>kompromitace klíče</translation>
    </message>
    <message>
        <location filename="../coordinator_texts.py" line="27"/>
        <source>member left</source>
        <translation>odchod člena</translation>
    </message>
    <message>
        <location filename="../coordinator_texts.py" line="28"/>
        <source>superseded</source>
        <translation>nahrazeno</translation>
    </message>
    <message>
        <location filename="../coordinator_texts.py" line="35"/>
        <source>active</source>
        <translation>aktivní</translation>
    </message>
    <message>
        <location filename="../coordinator_texts.py" line="36"/>
        <location filename="../coordinator_texts.py" line="51"/>
        <source>not yet valid</source>
        <translation>dosud neplatné</translation>
    </message>
    <message>
        <location filename="../coordinator_texts.py" line="37"/>
        <source>expired</source>
        <translation>platnost skončila</translation>
    </message>
    <message>
        <location filename="../coordinator_texts.py" line="38"/>
        <source>revoked</source>
        <translation>zneplatněné</translation>
    </message>
    <message>
        <location filename="../coordinator_texts.py" line="45"/>
        <source>revoked {0} ({1})</source>
        <translation>zneplatněné {0} ({1})</translation>
    </message>
    <message>
        <location filename="../coordinator_texts.py" line="49"/>
        <location filename="../coordinator_texts.py" line="61"/>
        <source>expired {0}</source>
        <translation>platnost skončila {0}</translation>
    </message>
    <message>
        <location filename="../coordinator_texts.py" line="52"/>
        <source>active until {0}</source>
        <translation>aktivní do {0}</translation>
    </message>
    <message>
        <location filename="../coordinator_texts.py" line="57"/>
        <source>used by device {0}</source>
        <translation>použita zařízením {0}</translation>
    </message>
    <message>
        <location filename="../coordinator_texts.py" line="62"/>
        <source>open until {0}</source>
        <translation>platná do {0}</translation>
    </message>
</context>
<context>
    <name>DesktopWindow</name>
    <message>
        <location filename="../window.py" line="117"/>
        <source>casecircle</source>
        <translation>casecircle</translation>
    </message>
    <message>
        <location filename="../window.py" line="118"/>
        <source>Language</source>
        <translation>Jazyk</translation>
    </message>
    <message>
        <location filename="../window.py" line="119"/>
        <source>Profile</source>
        <translation>Profil</translation>
    </message>
    <message>
        <location filename="../window.py" line="120"/>
        <source>Change passphrase…</source>
        <translation>Změnit heslovou frázi…</translation>
    </message>
    <message>
        <location filename="../window.py" line="121"/>
        <source>Reconnect now</source>
        <translation>Znovu připojit</translation>
    </message>
    <message>
        <location filename="../window.py" line="200"/>
        <source>The passphrase was changed.</source>
        <translation>Heslová fráze byla změněna.</translation>
    </message>
    <message>
        <location filename="../window.py" line="216"/>
        <location filename="../window.py" line="220"/>
        <source>Connecting…</source>
        <translation>Připojování…</translation>
    </message>
    <message>
        <location filename="../window.py" line="219"/>
        <source>Not connected</source>
        <translation>Nepřipojeno</translation>
    </message>
    <message>
        <location filename="../window.py" line="221"/>
        <source>Online</source>
        <translation>Připojeno</translation>
    </message>
    <message>
        <location filename="../window.py" line="222"/>
        <source>Disconnected</source>
        <translation>Odpojeno</translation>
    </message>
    <message>
        <location filename="../window.py" line="226"/>
        <source>Offline: working from this device; next try in {0} s</source>
        <translation>Offline: pracujete s daty v tomto zařízení; další pokus za {0} s</translation>
    </message>
</context>
<context>
    <name>DevicesTab</name>
    <message>
        <location filename="../coordinator_devices.py" line="35"/>
        <source>Every device the platform root ever issued, as the transparency log shows it, revoked ones included.</source>
        <translation>Všechna zařízení, kterým kdy kořenová autorita platformy vydala pověření, podle transparentního logu, včetně zneplatněných.</translation>
    </message>
    <message>
        <location filename="../coordinator_devices.py" line="41"/>
        <source>Device id</source>
        <translation>ID zařízení</translation>
    </message>
    <message>
        <location filename="../coordinator_devices.py" line="42"/>
        <source>Name</source>
        <translation>Jméno</translation>
    </message>
    <message>
        <location filename="../coordinator_devices.py" line="43"/>
        <source>Organisation</source>
        <translation>Organizace</translation>
    </message>
    <message>
        <location filename="../coordinator_devices.py" line="44"/>
        <source>Role</source>
        <translation>Role</translation>
    </message>
    <message>
        <location filename="../coordinator_devices.py" line="45"/>
        <source>Log entry</source>
        <translation>Položka logu</translation>
    </message>
    <message>
        <location filename="../coordinator_devices.py" line="46"/>
        <source>Valid from</source>
        <translation>Platné od</translation>
    </message>
    <message>
        <location filename="../coordinator_devices.py" line="47"/>
        <source>Valid until</source>
        <translation>Platné do</translation>
    </message>
    <message>
        <location filename="../coordinator_devices.py" line="48"/>
        <source>Status</source>
        <translation>Stav</translation>
    </message>
    <message>
        <location filename="../coordinator_devices.py" line="49"/>
        <source>Revoked</source>
        <translation>Zneplatněno</translation>
    </message>
    <message>
        <location filename="../coordinator_devices.py" line="50"/>
        <source>Reason</source>
        <translation>Důvod</translation>
    </message>
</context>
<context>
    <name>EnrolPage</name>
    <message>
        <location filename="../start_pages.py" line="94"/>
        <source>Join your platform</source>
        <translation>Připojení k platformě</translation>
    </message>
    <message>
        <location filename="../start_pages.py" line="97"/>
        <source>Your coordinator gave you an invite code: 24 words, or a QR code image. This device then asks to join, and waits until the coordinator approves it.</source>
        <translation>Koordinátor vám předal kód pozvánky: 24 slov nebo obrázek s QR kódem. Toto zařízení poté požádá o připojení a počká, dokud je koordinátor neschválí.</translation>
    </message>
    <message>
        <location filename="../start_pages.py" line="101"/>
        <source>Relay address</source>
        <translation>Adresa serveru</translation>
    </message>
    <message>
        <location filename="../start_pages.py" line="101"/>
        <source>Invite code</source>
        <translation>Kód pozvánky</translation>
    </message>
    <message>
        <location filename="../start_pages.py" line="105"/>
        <source>Type or paste the 24 words</source>
        <translation>Napište nebo vložte 24 slov</translation>
    </message>
    <message>
        <location filename="../start_pages.py" line="106"/>
        <source>Open QR image…</source>
        <translation>Otevřít obrázek s QR kódem…</translation>
    </message>
    <message>
        <location filename="../start_pages.py" line="107"/>
        <source>Ask to join</source>
        <translation>Požádat o připojení</translation>
    </message>
    <message>
        <location filename="../start_pages.py" line="108"/>
        <source>Audit a relay export instead…</source>
        <translation>Místo toho auditovat export serveru…</translation>
    </message>
    <message>
        <location filename="../start_pages.py" line="112"/>
        <source>Invite QR code</source>
        <translation>QR kód pozvánky</translation>
    </message>
    <message>
        <location filename="../start_pages.py" line="112"/>
        <source>Images (*.png *.jpg *.jpeg)</source>
        <translation>Obrázky (*.png *.jpg *.jpeg)</translation>
    </message>
</context>
<context>
    <name>InviteBook</name>
    <message>
        <location filename="../invite_book.py" line="32"/>
        <source>Invite book</source>
        <translation>Evidence pozvánek</translation>
    </message>
    <message>
        <location filename="../invite_book.py" line="35"/>
        <source>Invite id</source>
        <translation>ID pozvánky</translation>
    </message>
    <message>
        <location filename="../invite_book.py" line="36"/>
        <source>Name</source>
        <translation>Jméno</translation>
    </message>
    <message>
        <location filename="../invite_book.py" line="37"/>
        <source>Organisation</source>
        <translation>Organizace</translation>
    </message>
    <message>
        <location filename="../invite_book.py" line="38"/>
        <source>Role</source>
        <translation>Role</translation>
    </message>
    <message>
        <location filename="../invite_book.py" line="39"/>
        <source>Status</source>
        <translation>Stav</translation>
    </message>
    <message>
        <location filename="../invite_book.py" line="40"/>
        <source>Created</source>
        <translation>Vytvořeno</translation>
    </message>
</context>
<context>
    <name>InvitePanel</name>
    <message>
        <location filename="../invite_panel.py" line="143"/>
        <source>Name</source>
        <translation>Jméno</translation>
    </message>
    <message>
        <location filename="../invite_panel.py" line="144"/>
        <source>Organisation</source>
        <translation>Organizace</translation>
    </message>
    <message>
        <location filename="../invite_panel.py" line="145"/>
        <source>Role</source>
        <translation>Role</translation>
    </message>
    <message>
        <location filename="../invite_panel.py" line="146"/>
        <source>Valid for</source>
        <translation>Platnost</translation>
    </message>
    <message>
        <location filename="../invite_panel.py" line="147"/>
        <source>Words in</source>
        <translation>Jazyk slov</translation>
    </message>
    <message>
        <location filename="../invite_panel.py" line="151"/>
        <source>The member&apos;s full name</source>
        <translation>Celé jméno člena</translation>
    </message>
    <message>
        <location filename="../invite_panel.py" line="152"/>
        <source>Their agency</source>
        <translation>Instituce člena</translation>
    </message>
    <message>
        <location filename="../invite_panel.py" line="153"/>
        <source>e.g. police officer, nurse, social worker</source>
        <translation>např. policista, zdravotní sestra, sociální pracovnice</translation>
    </message>
    <message>
        <location filename="../invite_panel.py" line="154"/>
        <source> days</source>
        <translation> dní</translation>
    </message>
    <message>
        <location filename="../invite_panel.py" line="155"/>
        <source>English</source>
        <translation>Angličtina</translation>
    </message>
    <message>
        <location filename="../invite_panel.py" line="155"/>
        <source>Czech</source>
        <translation>Čeština</translation>
    </message>
    <message>
        <location filename="../invite_panel.py" line="159"/>
        <source>Create invite</source>
        <translation>Vytvořit pozvánku</translation>
    </message>
    <message>
        <location filename="../invite_panel.py" line="160"/>
        <source>Invite code</source>
        <translation>Kód pozvánky</translation>
    </message>
    <message>
        <location filename="../invite_panel.py" line="163"/>
        <source>These words and this image are the invite&apos;s secret. Hand them over in person or on a channel apart from the relay, then hide them.</source>
        <translation>Tato slova a tento obrázek jsou tajemstvím pozvánky. Předejte je osobně nebo jiným kanálem než přes server a poté je skryjte.</translation>
    </message>
    <message>
        <location filename="../invite_panel.py" line="167"/>
        <source>Save QR image…</source>
        <translation>Uložit obrázek s QR kódem…</translation>
    </message>
    <message>
        <location filename="../invite_panel.py" line="168"/>
        <source>Done: hide the code</source>
        <translation>Hotovo: skrýt kód</translation>
    </message>
    <message>
        <location filename="../invite_panel.py" line="181"/>
        <source>An invite needs a name, an organisation and a role.</source>
        <translation>Pozvánka musí obsahovat jméno, organizaci a roli.</translation>
    </message>
    <message>
        <location filename="../invite_panel.py" line="221"/>
        <source>For {0} ({1}), {2}. Invite id {3}. It can be used until {4}; the device&apos;s credential then lasts {5} days.</source>
        <translation>Pro: {0} ({1}), {2}. ID pozvánky {3}. Lze ji použít do {4}; pověření zařízení pak platí {5} dní.</translation>
    </message>
    <message>
        <location filename="../invite_panel.py" line="247"/>
        <source>Save the invite&apos;s QR image</source>
        <translation>Uložit obrázek s QR kódem pozvánky</translation>
    </message>
    <message>
        <location filename="../invite_panel.py" line="249"/>
        <source>PNG images (*.png)</source>
        <translation>Obrázky PNG (*.png)</translation>
    </message>
</context>
<context>
    <name>MemberPage</name>
    <message>
        <location filename="../member_page.py" line="179"/>
        <source>Save the file in</source>
        <translation>Uložit soubor do složky</translation>
    </message>
    <message>
        <location filename="../member_page.py" line="192"/>
        <source>Saved {0}</source>
        <translation>Uloženo: {0}</translation>
    </message>
    <message>
        <location filename="../member_page.py" line="235"/>
        <source>Adding {0}…</source>
        <translation>Přidávání: {0}…</translation>
    </message>
    <message>
        <location filename="../member_page.py" line="271"/>
        <source>The codes match: the keys are the same on both devices.</source>
        <translation>Kódy se shodují: klíče jsou na obou zařízeních stejné.</translation>
    </message>
</context>
<context>
    <name>MembersPanel</name>
    <message>
        <location filename="../members_panel.py" line="65"/>
        <source>Members</source>
        <translation>Členové</translation>
    </message>
    <message>
        <location filename="../members_panel.py" line="66"/>
        <source>Add colleague…</source>
        <translation>Přidat kolegu…</translation>
    </message>
    <message>
        <location filename="../members_panel.py" line="67"/>
        <source>Remove from case</source>
        <translation>Odebrat z případu</translation>
    </message>
    <message>
        <location filename="../members_panel.py" line="68"/>
        <source>Compare keys…</source>
        <translation>Porovnat klíče…</translation>
    </message>
    <message>
        <location filename="../members_panel.py" line="77"/>
        <source>this device</source>
        <translation>toto zařízení</translation>
    </message>
    <message>
        <location filename="../members_panel.py" line="79"/>
        <source>✔ key compared</source>
        <translation>✔ klíč porovnán</translation>
    </message>
    <message>
        <location filename="../members_panel.py" line="81"/>
        <source>⚠ revoked</source>
        <translation>⚠ zneplatněné</translation>
    </message>
</context>
<context>
    <name>MembersTab</name>
    <message>
        <location filename="../coordinator_members.py" line="57"/>
        <source>Member or device</source>
        <translation>Člen nebo zařízení</translation>
    </message>
    <message>
        <location filename="../coordinator_members.py" line="58"/>
        <source>Organisation</source>
        <translation>Organizace</translation>
    </message>
    <message>
        <location filename="../coordinator_members.py" line="59"/>
        <source>Role</source>
        <translation>Role</translation>
    </message>
    <message>
        <location filename="../coordinator_members.py" line="60"/>
        <source>Status</source>
        <translation>Stav</translation>
    </message>
    <message>
        <location filename="../coordinator_members.py" line="63"/>
        <source>Revoke device…</source>
        <translation>Zneplatnit zařízení…</translation>
    </message>
    <message>
        <location filename="../coordinator_members.py" line="64"/>
        <source>Revoke member…</source>
        <translation>Zneplatnit člena…</translation>
    </message>
    <message>
        <location filename="../coordinator_members.py" line="65"/>
        <source>Propose removals again</source>
        <translation>Znovu navrhnout odebrání</translation>
    </message>
    <message>
        <location filename="../coordinator_members.py" line="68"/>
        <source>Revoking is logged for everyone and cannot be undone. The device&apos;s removal is proposed in every case it is in; the next member online carries it out.</source>
        <translation>Zneplatnění se zapíše do logu viditelného pro všechny a nelze jej vrátit zpět. Odebrání zařízení se navrhne ve všech případech, jichž se účastní; provede je první člen, který bude připojen.</translation>
    </message>
    <message numerus="yes">
        <location filename="../coordinator_members.py" line="81"/>
        <source>%n device(s)</source>
        <translation>
            <numerusform>%n zařízení</numerusform>
            <numerusform>%n zařízení</numerusform>
            <numerusform>%n zařízení</numerusform>
        </translation>
    </message>
    <message numerus="yes">
        <location filename="../coordinator_members.py" line="82"/>
        <source>%n active</source>
        <translation>
            <numerusform>%n aktivní</numerusform>
            <numerusform>%n aktivní</numerusform>
            <numerusform>%n aktivních</numerusform>
        </translation>
    </message>
    <message>
        <location filename="../coordinator_members.py" line="85"/>
        <source>you</source>
        <translation>vy</translation>
    </message>
    <message>
        <location filename="../coordinator_members.py" line="93"/>
        <source>Device {0}</source>
        <translation>Zařízení {0}</translation>
    </message>
    <message>
        <location filename="../coordinator_members.py" line="95"/>
        <source>this device</source>
        <translation>toto zařízení</translation>
    </message>
</context>
<context>
    <name>Messages</name>
    <message>
        <location filename="../messages.py" line="24"/>
        <source>Something unexpected went wrong: {0}</source>
        <translation>Došlo k neočekávané chybě: {0}</translation>
    </message>
    <message>
        <location filename="../messages.py" line="28"/>
        <source>The relay cannot be reached now. Nothing was changed; try again later.</source>
        <translation>Server je nyní nedostupný. Nic nebylo změněno; zkuste to prosím později.</translation>
    </message>
    <message>
        <location filename="../messages.py" line="31"/>
        <source>The relay cannot be reached now. Notes wait in the outbox and are sent later.</source>
        <translation>Server je nyní nedostupný. Záznamy čekají ve frontě k odeslání a odešlou se později.</translation>
    </message>
    <message>
        <location filename="../messages.py" line="35"/>
        <source>Wrong passphrase.</source>
        <translation>Nesprávná heslová fráze.</translation>
    </message>
    <message>
        <location filename="../messages.py" line="36"/>
        <source>This profile is open in another window or program.</source>
        <translation>Tento profil je otevřen v jiném okně nebo programu.</translation>
    </message>
    <message>
        <location filename="../messages.py" line="39"/>
        <source>There is no device profile in this folder.</source>
        <translation>V této složce není žádný profil zařízení.</translation>
    </message>
    <message>
        <location filename="../messages.py" line="40"/>
        <source>This passphrase cannot be used: {0}</source>
        <translation>Tuto heslovou frázi nelze použít: {0}</translation>
    </message>
    <message>
        <location filename="../messages.py" line="41"/>
        <source>The invite code has a typo: the words do not check out.</source>
        <translation>V kódu pozvánky je překlep: slova neprošla kontrolou.</translation>
    </message>
    <message>
        <location filename="../messages.py" line="44"/>
        <source>An invite code is 24 words.</source>
        <translation>Kód pozvánky má 24 slov.</translation>
    </message>
    <message>
        <location filename="../messages.py" line="45"/>
        <source>A word of the invite code is not in the word list.</source>
        <translation>Jedno ze slov kódu pozvánky není v seznamu slov.</translation>
    </message>
    <message>
        <location filename="../messages.py" line="48"/>
        <source>A word of the invite code is ambiguous; type it in full.</source>
        <translation>Jedno ze slov kódu pozvánky je nejednoznačné; napište je celé.</translation>
    </message>
    <message>
        <location filename="../messages.py" line="51"/>
        <source>This invite is for another platform than the relay serves.</source>
        <translation>Tato pozvánka patří k jiné platformě, než kterou obsluhuje tento server.</translation>
    </message>
    <message>
        <location filename="../messages.py" line="54"/>
        <source>The coordinator rejected this enrolment.</source>
        <translation>Koordinátor tuto žádost o připojení zamítl.</translation>
    </message>
    <message>
        <location filename="../messages.py" line="55"/>
        <source>No approval came in time; ask for a new invite.</source>
        <translation>Schválení nepřišlo včas; požádejte o novou pozvánku.</translation>
    </message>
    <message>
        <location filename="../messages.py" line="58"/>
        <source>The relay address is not valid: {0}</source>
        <translation>Adresa serveru není platná: {0}</translation>
    </message>
    <message>
        <location filename="../messages.py" line="59"/>
        <source>No QR code could be read from this image.</source>
        <translation>Z tohoto obrázku se nepodařilo přečíst žádný QR kód.</translation>
    </message>
    <message>
        <location filename="../messages.py" line="60"/>
        <source>This device was removed from the case: it can send nothing to it.</source>
        <translation>Toto zařízení bylo z případu odebráno: nemůže do něj nic odeslat.</translation>
    </message>
    <message>
        <location filename="../messages.py" line="63"/>
        <source>The codes differ: this is not the device you compared with, or someone is in between. Do not mark it as verified; tell your coordinator.</source>
        <translation>Kódy se liší: nejde o zařízení, se kterým jste se porovnávali, nebo je někdo mezi vámi. Neoznačujte je jako ověřené; informujte koordinátora.</translation>
    </message>
    <message>
        <location filename="../messages.py" line="68"/>
        <source>This QR code is no safety-number code.</source>
        <translation>Tento QR kód není kódem bezpečnostního čísla.</translation>
    </message>
    <message>
        <location filename="../messages.py" line="69"/>
        <source>This safety-number code is from another version of the app.</source>
        <translation>Tento kód bezpečnostního čísla pochází z jiné verze aplikace.</translation>
    </message>
    <message>
        <location filename="../messages.py" line="75"/>
        <source>Refused ({0}): {1}</source>
        <translation>Odmítnuto ({0}): {1}</translation>
    </message>
    <message>
        <location filename="../messages.py" line="81"/>
        <source>sending…</source>
        <translation>odesílání…</translation>
    </message>
    <message>
        <location filename="../messages.py" line="82"/>
        <source>signature verified</source>
        <translation>podpis ověřen</translation>
    </message>
    <message>
        <location filename="../messages.py" line="83"/>
        <source>signature verified, key compared</source>
        <translation>podpis ověřen, klíč porovnán</translation>
    </message>
    <message>
        <location filename="../messages.py" line="84"/>
        <source>author&apos;s device revoked since</source>
        <translation>zařízení autora bylo mezitím zneplatněno</translation>
    </message>
    <message>
        <location filename="../messages.py" line="91"/>
        <source>Messages {0}–{1} of this case were not delivered to this device.</source>
        <translation>Zprávy {0}–{1} tohoto případu nebyly do tohoto zařízení doručeny.</translation>
    </message>
    <message>
        <location filename="../messages.py" line="95"/>
        <source>The relay is withholding messages of this case (from {0}).</source>
        <translation>Server zadržuje zprávy tohoto případu (počínaje zprávou {0}).</translation>
    </message>
    <message>
        <location filename="../messages.py" line="99"/>
        <source>The relay showed this device a history that contradicts what it saw before ({0}). Tell your coordinator.</source>
        <translation>Server tomuto zařízení ukázal historii, která je v rozporu s tím, co zařízení vidělo dříve ({0}). Informujte svého koordinátora.</translation>
    </message>
    <message>
        <location filename="../messages.py" line="105"/>
        <source>A device of {0} was revoked. Its earlier notes stay, marked.</source>
        <translation>Zařízení člena {0} bylo zneplatněno. Jeho dřívější záznamy zůstávají, ale jsou označeny.</translation>
    </message>
    <message>
        <location filename="../messages.py" line="108"/>
        <source>Something was refused and left out ({0}).</source>
        <translation>Něco bylo odmítnuto a vynecháno ({0}).</translation>
    </message>
    <message>
        <location filename="../messages.py" line="119"/>
        <source>{0} bytes</source>
        <translation>{0} B</translation>
    </message>
    <message>
        <location filename="../messages.py" line="121"/>
        <source>{0:.1f} kB</source>
        <translation>{0:.1f} kB</translation>
    </message>
    <message>
        <location filename="../messages.py" line="122"/>
        <source>{0:.1f} MB</source>
        <translation>{0:.1f} MB</translation>
    </message>
</context>
<context>
    <name>NewCaseDialog</name>
    <message>
        <location filename="../member_page.py" line="320"/>
        <source>New case</source>
        <translation>Nový případ</translation>
    </message>
    <message>
        <location filename="../member_page.py" line="321"/>
        <source>Colleagues added later read the whole case</source>
        <translation>Později přidaní kolegové uvidí celý případ</translation>
    </message>
    <message>
        <location filename="../member_page.py" line="322"/>
        <source>Colleagues added later read from then on</source>
        <translation>Později přidaní kolegové uvidí jen záznamy od svého přidání</translation>
    </message>
    <message>
        <location filename="../member_page.py" line="324"/>
        <source>Use a pseudonym, not the person&apos;s name: the list shows it on screen.</source>
        <translation>Použijte pseudonym, nikoli jméno osoby: seznam případů jej zobrazuje na obrazovce.</translation>
    </message>
    <message>
        <location filename="../member_page.py" line="327"/>
        <source>Pseudonym</source>
        <translation>Pseudonym</translation>
    </message>
    <message>
        <location filename="../member_page.py" line="327"/>
        <source>Title</source>
        <translation>Název</translation>
    </message>
    <message>
        <location filename="../member_page.py" line="327"/>
        <source>History</source>
        <translation>Historie</translation>
    </message>
    <message>
        <location filename="../member_page.py" line="334"/>
        <source>Both a pseudonym and a title are needed.</source>
        <translation>Vyplňte pseudonym i název.</translation>
    </message>
</context>
<context>
    <name>NewPassphraseFields</name>
    <message>
        <location filename="../passphrase_fields.py" line="40"/>
        <source>New passphrase</source>
        <translation>Nová heslová fráze</translation>
    </message>
    <message>
        <location filename="../passphrase_fields.py" line="40"/>
        <source>Strength</source>
        <translation>Síla</translation>
    </message>
    <message>
        <location filename="../passphrase_fields.py" line="40"/>
        <source>Passphrase again</source>
        <translation>Heslová fráze znovu</translation>
    </message>
    <message>
        <location filename="../passphrase_fields.py" line="48"/>
        <source>Choose a stronger passphrase.</source>
        <translation>Zvolte silnější heslovou frázi.</translation>
    </message>
    <message>
        <location filename="../passphrase_fields.py" line="50"/>
        <source>The two passphrases differ.</source>
        <translation>Heslové fráze se neshodují.</translation>
    </message>
    <message>
        <location filename="../passphrase_fields.py" line="66"/>
        <source>Use four or more unrelated words.</source>
        <translation>Použijte alespoň čtyři navzájem nesouvisející slova.</translation>
    </message>
    <message>
        <location filename="../passphrase_fields.py" line="68"/>
        <source>Strong enough.</source>
        <translation>Dostatečně silná.</translation>
    </message>
    <message>
        <location filename="../passphrase_fields.py" line="71"/>
        <source>Too weak.</source>
        <translation>Příliš slabá.</translation>
    </message>
    <message>
        <location filename="../passphrase_fields.py" line="75"/>
        <source>It is short.</source>
        <translation>Je krátká.</translation>
    </message>
    <message>
        <location filename="../passphrase_fields.py" line="76"/>
        <source>It is a common password.</source>
        <translation>Jde o běžné heslo.</translation>
    </message>
    <message>
        <location filename="../passphrase_fields.py" line="77"/>
        <source>It contains your name or organisation.</source>
        <translation>Obsahuje vaše jméno nebo název organizace.</translation>
    </message>
    <message>
        <location filename="../passphrase_fields.py" line="78"/>
        <source>It contains a common name.</source>
        <translation>Obsahuje běžné jméno.</translation>
    </message>
    <message>
        <location filename="../passphrase_fields.py" line="79"/>
        <source>It is built from common words alone.</source>
        <translation>Skládá se jen z běžných slov.</translation>
    </message>
    <message>
        <location filename="../passphrase_fields.py" line="81"/>
        <source>Replacing letters by digits does not help.</source>
        <translation>Nahrazení písmen číslicemi nepomůže.</translation>
    </message>
    <message>
        <location filename="../passphrase_fields.py" line="83"/>
        <source>A word written backwards is easy to guess.</source>
        <translation>Slovo napsané pozpátku se snadno uhodne.</translation>
    </message>
    <message>
        <location filename="../passphrase_fields.py" line="84"/>
        <source>It follows the keyboard.</source>
        <translation>Kopíruje rozložení klávesnice.</translation>
    </message>
    <message>
        <location filename="../passphrase_fields.py" line="85"/>
        <source>It repeats itself.</source>
        <translation>Opakuje se.</translation>
    </message>
    <message>
        <location filename="../passphrase_fields.py" line="86"/>
        <source>It contains a sequence.</source>
        <translation>Obsahuje řadu po sobě jdoucích znaků.</translation>
    </message>
    <message>
        <location filename="../passphrase_fields.py" line="87"/>
        <source>It contains a date or year.</source>
        <translation>Obsahuje datum nebo rok.</translation>
    </message>
</context>
<context>
    <name>SecurityBanner</name>
    <message>
        <location filename="../security_banner.py" line="52"/>
        <source>Show events…</source>
        <translation>Zobrazit události…</translation>
    </message>
    <message>
        <location filename="../security_banner.py" line="62"/>
        <source>The relay showed this device a history of the directory that contradicts what it saw before. Do not trust new members or keys; tell your coordinator and the auditor.</source>
        <translation>Server tomuto zařízení ukázal historii adresáře, která odporuje tomu, co zařízení vidělo dříve. Nedůvěřujte novým členům ani klíčům; informujte koordinátora a auditora.</translation>
    </message>
    <message numerus="yes">
        <location filename="../security_banner.py" line="70"/>
        <source>%n message(s) or key(s) were refused and left out.</source>
        <translation>
            <numerusform>%n zpráva nebo klíč byl odmítnut a vynechán.</numerusform>
            <numerusform>%n zprávy nebo klíče byly odmítnuty a vynechány.</numerusform>
            <numerusform>%n zpráv nebo klíčů bylo odmítnuto a vynecháno.</numerusform>
        </translation>
    </message>
</context>
<context>
    <name>SecurityEventsDialog</name>
    <message>
        <location filename="../security_banner.py" line="91"/>
        <source>Security events</source>
        <translation>Bezpečnostní události</translation>
    </message>
    <message>
        <location filename="../security_banner.py" line="96"/>
        <source>Nothing was refused.</source>
        <translation>Nic nebylo odmítnuto.</translation>
    </message>
</context>
<context>
    <name>ThreadView</name>
    <message>
        <location filename="../thread_view.py" line="141"/>
        <source>Choose a case on the left, or open a new one.</source>
        <translation>Vyberte případ vlevo, nebo založte nový.</translation>
    </message>
    <message>
        <location filename="../thread_view.py" line="143"/>
        <source>This device was removed from the case: it receives nothing new.</source>
        <translation>Toto zařízení bylo z případu odebráno: nové záznamy už nedostává.</translation>
    </message>
</context>
<context>
    <name>UnlockPage</name>
    <message>
        <location filename="../start_pages.py" line="222"/>
        <source>Unlock casecircle</source>
        <translation>Odemknout casecircle</translation>
    </message>
    <message>
        <location filename="../start_pages.py" line="223"/>
        <source>Profile: {0}</source>
        <translation>Profil: {0}</translation>
    </message>
    <message>
        <location filename="../start_pages.py" line="224"/>
        <source>Passphrase</source>
        <translation>Heslová fráze</translation>
    </message>
    <message>
        <location filename="../start_pages.py" line="225"/>
        <source>Unlock</source>
        <translation>Odemknout</translation>
    </message>
    <message>
        <location filename="../start_pages.py" line="226"/>
        <source>Audit a relay export instead…</source>
        <translation>Místo toho auditovat export serveru…</translation>
    </message>
</context>
<context>
    <name>WaitingPage</name>
    <message>
        <location filename="../start_pages.py" line="172"/>
        <source>Waiting for approval</source>
        <translation>Čeká se na schválení</translation>
    </message>
    <message>
        <location filename="../start_pages.py" line="175"/>
        <source>The request of this device was sent. Your coordinator now approves it; this can take a while, and this window may stay open. Invite id: {0}</source>
        <translation>Žádost tohoto zařízení byla odeslána. Nyní ji musí schválit váš koordinátor; může to chvíli trvat a toto okno může zůstat otevřené. ID pozvánky: {0}</translation>
    </message>
    <message>
        <location filename="../start_pages.py" line="179"/>
        <source>Cancel</source>
        <translation>Zrušit</translation>
    </message>
</context>
</TS>
