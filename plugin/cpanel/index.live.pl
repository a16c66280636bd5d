#!/usr/local/cpanel/3rdparty/bin/perl
#
# cPanel (Jupiter) page shim of the anti-spam policy plugin.
# Installed as /usr/local/cpanel/base/frontend/jupiter/antispam/index.live.pl (mode 0755, root),
# linked from cPanel's Home page by plugin/cpanel/install.json (uri antispam/index.live.pl).
#
# cpsrvd runs this page AS THE LOGGED-IN cPANEL USER, with the login in REMOTE_USER. That user
# must not read the root-only SSO secret (whoever can read it can sign in as anyone), so on a
# cPanel server the token is minted by the root-side admin module
# Cpanel::Admin::Modules::Antispam::SSO (plugin/cpanel/adminbin/SSO.pm) through cPanel's
# privilege escalation (Cpanel::AdminBin::Call). The admin module takes the user from cPanel
# (get_caller_username), checks the "antispam" feature, and returns the redirect URL.
# Without cPanel's AdminBin (tests, or when this runs as root) it mints the token itself.
#
#   REMOTE_USER=<cPanel user>   -> role customer, 302 to <app_url>/sso?token=...&embedded=1
#   TEAM_USER set (team login)  -> 403 page: team users are not supported yet
#   no REMOTE_USER              -> 403 page, no redirect

use strict;
use warnings;

use FindBin ();

BEGIN {
    my $root = $ENV{ANTISPAM_ROOT};
    $root = '/' if !defined $root || $root eq '';
    $root =~ s{/+\z}{};
    unshift @INC, "$root/usr/local/cpanel/3rdparty/antispam/lib", "$FindBin::RealBin/../lib";
    push @INC, '/usr/local/cpanel';    # Cpanel::AdminBin::Call on a cPanel server
}

use AntispamPlugin ();

binmode STDOUT;
print respond();
exit 0;

sub respond {
    if ( my $page = AntispamPlugin::method_error() ) { return $page }

    my $user = lc( $ENV{REMOTE_USER} // '' );
    if ( $user eq '' ) {
        return AntispamPlugin::cgi_error( 403, 'Not signed in to cPanel',
            'This page must be opened from cPanel: the panel did not say who is signed in (REMOTE_USER is not set).' );
    }
    if ( defined $ENV{TEAM_USER} && $ENV{TEAM_USER} ne '' ) {
        return AntispamPlugin::cgi_error( 403, 'Team users are not supported yet',
            'You are signed in as a team user of this cPanel account. Anti-Spam Policy can only be opened by the account owner for now: sign in to cPanel with the account\'s own login.' );
    }
    if ( !AntispamPlugin::valid_username($user) ) {
        return AntispamPlugin::cgi_error( 403, 'Unsupported user name', 'The signed-in cPanel user name is not one this plugin accepts.' );
    }

    my $url;
    if ( $> != 0 && eval { require Cpanel::AdminBin::Call; 1 } ) {
        # Normal case on a cPanel server: the root-side admin module mints the token.
        $url = eval { Cpanel::AdminBin::Call::call( 'Antispam', 'SSO', 'CUSTOMER_SSO_URL' ) };
        if ( my $err = $@ ) {
            return AntispamPlugin::cgi_error( 500, 'Sign-in failed',
                'The plugin could not create your sign-in link (the server-side helper failed). Ask the server administrator to check the plugin installation and /usr/local/cpanel/logs/error_log.' );
        }
        if ( !defined $url || ref $url || $url !~ m{\Ahttps?://\S+/sso\?token=[A-Za-z0-9_.-]+&embedded=1\z} ) {
            return AntispamPlugin::cgi_error( 500, 'Sign-in failed', 'The server-side helper returned no usable sign-in link.' );
        }
        return AntispamPlugin::cgi_redirect($url);
    }

    # Direct minting: as root (trust cpsrvd's REMOTE_USER), or as the user itself when the
    # secret happens to be readable (then only for that very user).
    if ( $> != 0 ) {
        my $me = ( getpwuid($>) )[0] // '';
        if ( $me ne $user ) {
            return AntispamPlugin::cgi_error( 403, 'User mismatch', 'This page runs as a different system user than the signed-in cPanel user.' );
        }
    }
    $url = eval { AntispamPlugin::sso_url_for( $user, 'customer' ) };
    if ( my $err = $@ ) {
        return AntispamPlugin::cgi_error( 500, 'Plugin not configured',
            'The sign-in link could not be made: ' . ( $err =~ s/\s+\z//r ) . '. Ask the server administrator to run the plugin\'s install.sh again.' );
    }
    return AntispamPlugin::cgi_redirect($url);
}
