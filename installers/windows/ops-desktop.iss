; Inno Setup 6 script: the Windows installer of the desktop program.
;
; Built by installers/build.py on Windows (`python installers\build.py`), which passes the version
; and the PyInstaller output:
;     ISCC.exe /DAppVersion=0.1.0 /DSourceDir=dist\ops-desktop /Odist installers\windows\ops-desktop.iss
;
; - Per-user: no administrator rights; installs into %LOCALAPPDATA%\Programs\Operations.
; - A Start-menu entry (and, if ticked, a desktop shortcut).
; - An upgrade replaces the program folder; the user's data is elsewhere and untouched.
; - The uninstaller KEEPS the user's databases (%LOCALAPPDATA%\OpsManagement) unless the user says
;   yes to deleting them (default: no), or a silent uninstall is given /DELETEDATA.
; - Signing: set OPS_SIGNTOOL to the signing command before running build.py, e.g.
;   signtool sign /fd sha256 /tr http://timestamp.digicert.com /td sha256 /a $f
;   build.py then passes /Sopssign=<command> /DSignTool=opssign, and Inno Setup signs the
;   installer and the uninstaller with it (installers/README.md, section 11).

#ifndef AppVersion
  #define AppVersion "0.0.0"
#endif
#ifndef SourceDir
  #define SourceDir "..\..\dist\ops-desktop"
#endif

[Setup]
AppId={{6F1D2C3B-8A47-4E0B-9C55-3D1E2A7B9F10}
AppName=Operations
AppVersion={#AppVersion}
AppVerName=Operations {#AppVersion}
AppPublisher=OpsManagement
VersionInfoVersion={#AppVersion}
DefaultDirName={autopf}\Operations
DefaultGroupName=Operations
DisableProgramGroupPage=yes
DisableDirPage=auto
; Per-user install: {autopf} is %LOCALAPPDATA%\Programs, {autoprograms} the user's Start menu.
PrivilegesRequired=lowest
ArchitecturesAllowed=x64compatible
ArchitecturesInstallIn64BitMode=x64compatible
OutputBaseFilename=ops-desktop-{#AppVersion}-setup
SetupIconFile=..\icons\ops-desktop.ico
UninstallDisplayIcon={app}\ops-desktop.exe
UninstallDisplayName=Operations
Compression=lzma2/max
SolidCompression=yes
WizardStyle=modern
CloseApplications=yes
#ifdef SignTool
SignTool={#SignTool}
#endif

[Languages]
Name: "english"; MessagesFile: "compiler:Default.isl"

[Tasks]
Name: "desktopicon"; Description: "{cm:CreateDesktopIcon}"; GroupDescription: "{cm:AdditionalIcons}"; Flags: unchecked

[InstallDelete]
; An upgrade replaces the bundled libraries entirely (a file an older version shipped must not linger).
Type: filesandordirs; Name: "{app}\_internal"

[Files]
Source: "{#SourceDir}\*"; DestDir: "{app}"; Flags: ignoreversion recursesubdirs createallsubdirs

[Icons]
Name: "{autoprograms}\Operations"; Filename: "{app}\ops-desktop.exe"; Comment: "Operations management"
Name: "{autodesktop}\Operations"; Filename: "{app}\ops-desktop.exe"; Tasks: desktopicon

[Run]
Filename: "{app}\ops-desktop.exe"; Description: "{cm:LaunchProgram,Operations}"; Flags: nowait postinstall skipifsilent

[Code]
// The databases live where desktop/profiles.py puts them: platformdirs' user data directory,
// %LOCALAPPDATA%\OpsManagement\OpsManagement. They may hold changes not yet synced.
function DataDir(): String;
begin
  Result := ExpandConstant('{localappdata}\OpsManagement');
end;

function DeleteDataGiven(): Boolean;
var
  I: Integer;
begin
  Result := False;
  for I := 1 to ParamCount do
    if CompareText(ParamStr(I), '/DELETEDATA') = 0 then
      Result := True;
end;

procedure CurUninstallStepChanged(CurUninstallStep: TUninstallStep);
var
  Remove: Boolean;
begin
  if (CurUninstallStep <> usPostUninstall) or not DirExists(DataDir()) then
    Exit;
  if UninstallSilent() then
    Remove := DeleteDataGiven()
  else
    Remove := MsgBox('Also delete your local Operations databases?' + #13#10 + #13#10 +
      DataDir() + #13#10 + #13#10 +
      'Changes not yet sent to the server would be lost. Choose No to keep them: ' +
      'installing Operations again finds them.', mbConfirmation, MB_YESNO or MB_DEFBUTTON2) = IDYES;
  if Remove then
    DelTree(DataDir(), True, True, True);
end;
