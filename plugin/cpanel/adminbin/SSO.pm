package Cpanel::Admin::Modules::Antispam::SSO;

# cPanel admin module (privilege escalation, "Admin module method") of the anti-spam policy plugin.
# Installed as /var/cpanel/perl/Cpanel/Admin/Modules/Antispam/SSO.pm (root, 0644).
#
# The cPanel page shim (index.live.pl) runs as the cPanel user and calls
#   Cpanel::AdminBin::Call::call('Antispam', 'SSO', 'CUSTOMER_SSO_URL')
# cPanel runs this action as root and tells it who called (get_caller_username), so the token is
# always for the calling account, with role "customer", and only when the account has the
# "antispam" feature (the Feature Manager entry that install.json creates). No arguments are taken.

use strict;
use warnings;

use parent qw( Cpanel::Admin::Base );

BEGIN {
    my $root = $ENV{ANTISPAM_ROOT};
    $root = '/' if !defined $root || $root eq '';
    $root =~ s{/+\z}{};
    unshift @INC, "$root/usr/local/cpanel/3rdparty/antispam/lib";
}

use constant _actions => ('CUSTOMER_SSO_URL');

sub CUSTOMER_SSO_URL {
    my ($self) = @_;

    # Team users are not supported yet (the shim refuses them too).
    die "Team users cannot open Anti-Spam Policy yet.\n" if defined $ENV{TEAM_USER} && $ENV{TEAM_USER} ne '';

    $self->cpuser_has_feature_or_die('antispam');

    require AntispamPlugin;
    my $user = lc( $self->get_caller_username() // '' );
    die "Unsupported cPanel user name.\n" if !AntispamPlugin::valid_username($user) || $user eq 'root';
    return AntispamPlugin::sso_url_for( $user, 'customer' );
}

1;
